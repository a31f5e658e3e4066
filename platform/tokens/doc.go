// Package tokens verifies Andes access tokens for every process that receives them
// (DESIGN.md section 7): the gateways and the services behind them.
//
// Access tokens are JWTs per RFC 9068 signed by auth. A Verifier checks them
// locally, without calling auth:
//
//   - the signature, with keys from auth's JWKS (fetched over HTTP and cached,
//     fetched again when a token names an unknown key), and only with the algorithms
//     of an allow-list (EdDSA, ES256): "none" and HMAC are refused;
//   - the header's typ ("at+jwt"), so an ID token or another JWT cannot pass as an
//     access token;
//   - iss, aud, exp, nbf and iat against the verifier's issuer, audience and clock;
//   - the revocation set: token ids (jti) and subjects that auth revoked, which it
//     announces on NATS JetStream and a verifier keeps until each token's expiry.
//
// Verified tokens are cached (the signature is checked once per token, not per
// request); the revocation set is consulted on every request, cached or not.
//
// The principal (subject, client, partner, scopes) goes into the request context:
// HTTP middleware (Middleware), gRPC interceptors (UnaryServerInterceptor,
// StreamServerInterceptor) and a Connect interceptor (ConnectInterceptor) read the
// token from the Authorization header or metadata only — never from a query string
// or a form (RFC 9700 section 4.3.2) — and handlers read it with FromContext.
//
// A process gets its verifier with ForProcess (issuer from Issuer, the platform
// audience, auth's JWKS, the revocation feed as a task of the process); a gateway
// sends the end user's token on to the services with ForwardBearer.
package tokens
