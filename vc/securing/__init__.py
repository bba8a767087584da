"""Securing mechanisms (VC Data Model 2.0, section 4.12): one module each, all implementing
:class:`~tradevc.vc.securing.mechanism.SecuringMechanism`.

- :mod:`~tradevc.vc.securing.data_integrity`: embedded Data Integrity proofs; the
  cryptosuites and the generic proof algorithms are in :mod:`~tradevc.vc.securing.proofs`;
- :mod:`~tradevc.vc.securing.jose`: compact JWS, ``vc+jwt``/``vp+jwt`` and, through
  :mod:`~tradevc.vc.securing.vcjwt`, VC-JWT 1.1; :mod:`~tradevc.vc.securing.jws` is the JWS
  itself (parsing, header policy, signatures);
- :mod:`~tradevc.vc.securing.enveloped`: enveloped credentials and presentations;
- :mod:`~tradevc.vc.securing.registry`: which mechanism a document uses.
"""
