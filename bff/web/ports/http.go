// Package ports serves bff-web's edge: the web banking page (embedded static
// files), the login, callback and logout routes of the token-handler pattern,
// and andes.web.v1 over Connect for the page's fetch calls.
package ports

import (
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"connectrpc.com/connect"

	"github.com/andes-bank/andes/bff/web/app"
	"github.com/andes-bank/andes/bff/web/domain"
	"github.com/andes-bank/andes/gen/andes/web/v1/webv1connect"
	"github.com/andes-bank/andes/platform/validation"
)

//go:embed static
var static embed.FS

// Cookie names. In production (Secure) the session cookie takes the __Host-
// prefix, which browsers accept only with Secure, Path=/ and no Domain: it cannot
// be set or shadowed by a sibling subdomain.
const (
	sessionCookieDev    = "andes_session"
	sessionCookieSecure = "__Host-andes_session"
	stateCookie         = "andes_login_state"
)

// contentSecurityPolicy: scripts, styles and fetches only from this origin, no
// inline script, never framed.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// stateChanging are the procedures that need the session's CSRF token.
var stateChanging = map[string]bool{
	webv1connect.WebServiceSetLanguageProcedure: true,
	webv1connect.WebServiceTransferProcedure:    true,
}

// Options configure the edge.
type Options struct {
	// Secure marks cookies Secure and sends HSTS: production, behind TLS.
	Secure bool
	Logger *slog.Logger
}

// Edge is the edge's handler.
type Edge struct {
	sessions *app.App
	opts     Options
	mux      *http.ServeMux
}

// NewEdge builds the edge's routes.
func NewEdge(sessions *app.App, api *API, opts Options) (*Edge, error) {
	// Every request is checked against the contract's rules before its handler
	// (and before the session is read).
	validator, err := validation.New()
	if err != nil {
		return nil, err
	}
	e := &Edge{sessions: sessions, opts: opts, mux: http.NewServeMux()}
	path, h := webv1connect.NewWebServiceHandler(api, connect.WithInterceptors(validator.ConnectInterceptor(errorDomain)),
		connect.WithReadMaxBytes(64<<10))
	e.mux.Handle(path, e.withSession(h))
	e.mux.HandleFunc("GET /login", e.login)
	e.mux.HandleFunc("GET /auth/callback", e.callback)
	e.mux.HandleFunc("POST /logout", e.logout)
	assets, _ := fs.Sub(static, "static")
	e.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(assets)))
	e.mux.HandleFunc("GET /{$}", e.page)
	return e, nil
}

// ServeHTTP sets the security headers every answer carries.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if e.opts.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-cache")
	} else {
		// Account pages and API answers are never kept by the browser or a proxy.
		h.Set("Cache-Control", "no-store")
	}
	e.mux.ServeHTTP(w, r)
}

func (e *Edge) sessionCookieName() string {
	if e.opts.Secure {
		return sessionCookieSecure
	}
	return sessionCookieDev
}

func (e *Edge) sessionID(r *http.Request) string {
	if c, err := r.Cookie(e.sessionCookieName()); err == nil {
		return c.Value
	}
	return ""
}

// SessionCookie is the cookie that carries a session id: HttpOnly (no script
// reads it), SameSite=Lax (not sent on cross-site subrequests or POSTs), Secure in
// production, no Max-Age (the server ends sessions; the browser forgets it on exit).
func SessionCookie(name, value string, secure bool) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}

func (e *Edge) clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: e.opts.Secure, SameSite: http.SameSiteLaxMode})
}

// sameOrigin refuses calls a browser made from another site (defence in depth
// beside SameSite and the CSRF token): a browser always sends Origin on POST.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser's cross-site fetch
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// withSession resolves the cookie's session for the Connect API, and checks the
// CSRF token of state-changing calls.
func (e *Edge) withSession(next http.Handler) http.Handler {
	errs := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			_ = errs.Write(w, r, sessionError(domain.ErrCSRF))
			return
		}
		id := e.sessionID(r)
		s, err := e.sessions.Resume(r.Context(), id)
		if err != nil {
			if errors.Is(err, domain.ErrNoSession) {
				e.clearCookie(w, e.sessionCookieName(), "/")
			} else if !errors.Is(err, domain.ErrAuthUnavailable) {
				e.opts.Logger.ErrorContext(r.Context(), "session", "err", err)
			}
			_ = errs.Write(w, r, sessionError(err))
			return
		}
		if stateChanging[r.URL.Path] {
			if err := s.CheckCSRF(r.Header.Get("X-CSRF-Token")); err != nil {
				_ = errs.Write(w, r, sessionError(err))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(withSession(r.Context(), id, s)))
	})
}

// page serves the web banking page to a live session and sends anyone else to log in.
func (e *Edge) page(w http.ResponseWriter, r *http.Request) {
	if _, err := e.sessions.Resume(r.Context(), e.sessionID(r)); err != nil {
		if !errors.Is(err, domain.ErrNoSession) {
			e.failPage(w, r, err)
			return
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.ServeFileFS(w, r, static, "static/index.html")
}

// login starts the authorization code flow with PKCE; the state is also put in a
// short-lived cookie so that only the browser that started a login can finish it
// (no login CSRF: an attacker's code cannot be planted in a victim's browser).
func (e *Edge) login(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = r.Header.Get("Accept-Language")
	}
	state, to, err := e.sessions.BeginLogin(r.Context(), lang)
	if err != nil {
		e.failPage(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: "/auth/callback", MaxAge: int(app.LoginTTL.Seconds()),
		HttpOnly: true, Secure: e.opts.Secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// callback is the redirect URI auth registered for the web client.
func (e *Edge) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e.clearCookie(w, stateCookie, "/auth/callback")
	if q.Get("error") != "" {
		// The customer cancelled or auth refused: start again from the login page.
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	var browserState string
	if c, err := r.Cookie(stateCookie); err == nil {
		browserState = c.Value
	}
	id, _, err := e.sessions.CompleteLogin(r.Context(), q.Get("state"), browserState, q.Get("code"))
	if err != nil {
		if errors.Is(err, domain.ErrLoginState) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		e.failPage(w, r, err)
		return
	}
	http.SetCookie(w, SessionCookie(e.sessionCookieName(), id, e.opts.Secure))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session (CSRF token required: logging someone out is a state
// change too) and revokes its tokens at auth.
func (e *Edge) logout(w http.ResponseWriter, r *http.Request) {
	errs := connect.NewErrorWriter()
	if !sameOrigin(r) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	id := e.sessionID(r)
	s, err := e.sessions.Resume(r.Context(), id)
	if err != nil {
		e.clearCookie(w, e.sessionCookieName(), "/")
		_ = errs.Write(w, r, sessionError(err))
		return
	}
	if err := s.CheckCSRF(r.Header.Get("X-CSRF-Token")); err != nil {
		_ = errs.Write(w, r, sessionError(err))
		return
	}
	if err := e.sessions.Logout(r.Context(), id); err != nil && !errors.Is(err, domain.ErrNoSession) {
		// The session is gone either way; tokens auth could not revoke expire soon.
		e.opts.Logger.WarnContext(r.Context(), "logout: revocation at auth failed", "err", err)
	}
	e.clearCookie(w, e.sessionCookieName(), "/")
	w.WriteHeader(http.StatusNoContent)
}

// failPage is a plain, calm error page for the login routes.
func (e *Edge) failPage(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusServiceUnavailable
	if !errors.Is(err, domain.ErrAuthUnavailable) {
		e.opts.Logger.ErrorContext(r.Context(), "web page", "err", err)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<!doctype html><html lang="es-PE"><head><meta charset="utf-8"><title>Banco Andes</title>` +
		`<link rel="stylesheet" href="/static/app.css"></head><body><main class="narrow"><h1>Banco Andes</h1>` +
		`<p>No pudimos completar tu ingreso en este momento. Inténtalo de nuevo en unos minutos.</p>` +
		`<p lang="en">We could not sign you in right now. Please try again in a few minutes.</p>` +
		`<p><a class="button" href="/login">Volver a ingresar</a></p></main></body></html>`))
}
