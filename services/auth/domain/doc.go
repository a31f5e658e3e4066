// Package domain holds auth's types and rules: OAuth2 clients and what each may do,
// scopes, redirect-URI matching, PKCE, client-secret and password hashing, customer
// credentials and the login lockout policy. No I/O, no generated types.
package domain
