package ports

import (
	"strings"
	"testing"
)

func TestSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secure bool
		want   []string
		not    []string
	}{
		{"development, plain http", false, []string{"andes_session=v", "Path=/", "HttpOnly", "SameSite=Lax"}, []string{"Secure", "Max-Age", "Domain"}},
		{"production, https", true, []string{"__Host-andes_session=v", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"}, []string{"Max-Age", "Domain"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Edge{opts: Options{Secure: tc.secure}}
			got := SessionCookie(e.sessionCookieName(), "v", tc.secure).String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("%q has %q", got, n)
				}
			}
		})
	}
}
