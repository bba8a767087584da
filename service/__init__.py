"""``tradevc-serve``: a W3C VC API service composing the issuing and verifying desks (see
:mod:`tradevc.service.app`). Neither desk imports it, so they still never meet each other."""
