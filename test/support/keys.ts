/**
 * Fixed RSA test keys (test use only: they are public in this repository and protect nothing).
 *
 * Why fixed: Wine 10's Schannel fails to sign its ServerKeyExchange with some RSA keys imported from a
 * PFX: GnuTLS prints "Public key signing has failed" and AcceptSecurityContext returns
 * SEC_E_INTERNAL_ERROR. It depends on the key alone (the same key fails every time, in every process),
 * and struck about one run in twelve when the tests made a fresh 2048-bit key per run (measured
 * 2026-11-22: 2 of 25 runs). The keys that failed had a CRT value (dQ or qInv) or the private exponent
 * several bits shorter than its slot; other keys with a short value passed, so the exact rule inside
 * Wine's key conversion is not pinned down. Microsoft's Schannel signs with any valid key.
 *
 * RSA_2048 passed every handshake under Wine 10; RSA_2048_WINE_CANNOT_SIGN (qInv one byte short) fails
 * every time under Wine 10, and test/unit/schannel-credentials.test.ts asserts exactly that.
 */
export const RSA_2048 = `-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC9GsiSnT8b0hmH
xmcn9CVF2wJDQoccG6ddvjjM5Yq6RX05ewL4I9h0mojMyMbUdLtKXmxv7WKooeWr
ZwUlvBYsMRX5GhUdVqvzIMSs9gpVI5jaTVl4SKQiDsB3/hl75cSlBsyvUTfem+7h
awtqkxzQFN8QLUwhxBF6ntMDiDzju2xG5mVQh/rSf/3NDr3esC37u/hIN1RHfpTu
II0PLp+WhFVVxUUyBUe49MFvqvx607oDCk9FnF7CGEfewU2fhou1ZDvETnyA2Xt3
tzGZa9/JG2MFJfOGRZmvy2/lgZaFfKbX56xo+dwy2hzHUW3G1oXScqHJF05Pg8Sg
7ch77C7pAgMBAAECggEACdkcOu5ve+5sH/MIKj9/tWybaI9NY/xYsfwXDyyhFeRK
ijTKyctsGV5241tNZ4EQw+W49fdB3RBZWpzJ2tY5vWFtCIUANn/uAoJhW7SQgzCQ
ZEYE88usqI1mHpmgECC+Je39uN+c7j3mqdyeQpWYuYlsuHXzcgq48k7VJGjy6tUf
089VjVb+DLzuBXnpYzB1/mby/XMv0YBGPouIgtP40oPCzAKh3xApja/qRkys2ZoY
+ukzVQ+DsJaW/PZpiETp7Thm7DZ6AOtB8fMzXMja+RocqKmKTMWR9NnciWnzBbJC
UGNLHYQ7wUWcpsWJYs7JrVBFRN9TsytjyDTE/51NlQKBgQD22hiBPy8ThG36hJPs
9zCqZKrTlRGVucJ6NoWf1HXJdVhsRLzKkkbqLrPIQbEDq6dKBGRrKoAgedg8OlSX
sVi7HLbs9JL0l9GrZnA5ws0LPRXcuxnyAXTTl2G/AH+w1E3ydvZSz+yDknT+7bVl
UpgRv2zPa2yElVRBj223HfHlwwKBgQDEHNWW6OCjN/HaTHXM/w/Qe55aTNL9u7US
oUUKAU4gk0n3CPmi7P+miJGIuj5xQBBEHWMw+AS1r6oQBrquYOgeSz6pTJb8cSYz
b8aIOoOLt9HJlnbk6ukFhRy0UwG26gRTHuQJNEqIJK4t8qXY36Qztd4ZYxkUsocy
/agucO6R4wKBgHFqjT286QU/oEQs68ZBYIO5Ut95qyWuvpLmQAjKVf/kwWalQlSU
Vq68HHAS9qCoGmmgkP7H/SxurxIk/r7fhdQaglVmnapxoqzsmP2A6jKSs1vCP054
qtOYxxk5wnFdah7P16b+zz04ajbCwsg15Zap6/V09twHvDmPC6rJwF1/AoGAGhc3
91bOJAjaXU+U0IwSf4siuyLDY0xov6zC8ZzQ1xahXYNNKvba4D4FFqqoigqa32UF
gEtO3Rkcx/sNNQvhdb5O/NkasUUgbvFs+UzHmXwAJhClirkR/VEDS55LeRlTL/fJ
IMxbKhevMJ+6nsrKHrMQdFIx0QYbZJZInL0bkD8CgYAvxX2pVpsgqjJ/+FOOXokL
R0s2d5O9q4U9sp3peWMEkgNOWFG0/icKNlRJwOQ10eWDf4OkldVSAw8isv25NmTw
FSwbUGjlS7cLzhC2RVa5++nFSqpmiqLKTUHy5PX8zmrh33Rf0NxLiTnDQUU6QevL
+sjqV/fWK2uwKE+MJ8rwTg==
-----END PRIVATE KEY-----
`;

export const RSA_2048_WINE_CANNOT_SIGN = `-----BEGIN PRIVATE KEY-----
MIIEuwIBADANBgkqhkiG9w0BAQEFAASCBKUwggShAgEAAoIBAQCipehYAkoNuYpY
2RLfeSKm7Zo2tfvtmbdlUCIaCHZvCbqeS1nxzgSDpvODbnAmn87DMuv8VK44Nbj4
b50mXj9ygBu7u4hD3A2VZ6DN37l81/ozGcuQvtgguGHeix5gVQLxd6BB6MgUeKlS
vESs/2SbICYIDXMlC+F8IYAjYDjgZJDdS6wlRG/h8kYiz/JaET4sFq1z2Mev2cCg
u8LOeqmC8Ye9KVnjiks9/n5fs7eZghSfe1x4XmE3cal4poQr1LR5lrMf8Y3UeYB7
AVrSlpvVP/W3Jqn4kJLYxtPAM4vhi0B02sHCuDXRpuRHKBJOMBAX+BgS0Bt2CDOC
alU2OvuRAgMBAAECggEACnHAbocGcISvBV8PzEa9VVOnJjxqlyVFPAMuDsFnMjYB
Tuu+9MfaYtuG7Mmb9+L7C5kFbeCV3RlYDX4ErPjQNrRSyOv1MgmwsUd5sZaxqiUS
qug3ufhYrRs3T6uGfGr2bivqICldpcY3dfm4fZUbMFnwue4mgXpr6kUayHVumZF0
Cf3giTlnJ04igtTcI8t/jYLo6qVi4059vWpMGlKmS+557cYd5QoJkv/L1kOrsG83
HJ1gW9+2vHcjlv19P5lemX1zcTXWeVVgLkhMgCLZI+T3DttGRj2f+uejHfS+LCJX
EKOKiKbIslKgXMQTihXuVQWt54SEo2upApXnsEg+ZQKBgQDbSmJqVathDf+Rgqri
5wAZN4BEf00V4NZBdchl/w8KyYydcaGuyoFCWEnImjUBQjiXLNMWZQyHzBv66HMY
UF06PSJT/yCvzRRGc4j4roYmV8za81fhzdo9AjlqBhnS2oXsnGmxUOLxpzykwK0O
rxmFL/Y0eg3JYWWEFglYMHVpzQKBgQC94CFi/3hZREY3eqKquZ3qVFeQ+77tTeiH
4y8Bd0l6CdnrxnXj+ZXCWM9jnHRHEMPXuHNsfWnudKogXocpBP3VuT17NPQ6oLe3
jaso25QqXBphkTOvxyi+dvcikeUd6sy+OVvCDDyqw9cbtTEh1Y2siH4hL4wdwo6Y
WokMgK3E1QKBgHiSY55X0E0i5zxYfiEYJgO3cn03CWlYIDYJzs/V961UuE3xJpb2
nS+fX6I+t5ojkP3+FWog0UzxOwkwOehKd5gH+RH6GzzOI7HA4LTrMLNwXyCb39w1
1SLqUCstg5FduXkpXyuxb7ay3zMvBXgnan7CqjqcSWxKcwi3HRgyPLyZAoGBAKsn
VJELXa2BqJWr2uNv69PlcQWEl8cK+jc7Zwy4PShfpusr+uqj+QW1zkOpLPs+NnrG
jmzV494Jla0V6FnmYPT9RFlCE4ChjNlNP2LWA4nnefRG0cN6D9UYIY8s2c2M8D/s
LjUNmMYJQGZ+fqpT+J/0bVV2qaPN04Gr4mu9tmV9An9FfkMaWEF9YkeHyL5ACmeB
AWMegTeKhQjq0b6GAdDq1dLu//CEHOUTJ0WFHXDmFspa1AE6QqK6vQdzB5UWOwha
UkIKiL0N6ISf1bdPt8OzEBDZbawq6lZKxGs+NKF5tNoTzfC9XbgZCoGKACYnDRdA
EtwO/NO4oQa6e+JDUAjA
-----END PRIVATE KEY-----
`;
