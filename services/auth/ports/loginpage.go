package ports

import (
	"html/template"
	"net/http"
	"strings"
)

// The login page is plain HTML: a form that works without JavaScript, in Spanish
// first (English when the browser prefers it or ?lang=en).

type message int

const (
	msgNone message = iota
	msgBadRequest
	msgUnknownClient
	msgBadRedirect
	msgSessionExpired
	msgInvalidLogin
	msgLocked
	msgDisabled
	msgUnavailable
)

type texts struct {
	Lang, Title, Heading, Intro, DocType, DNI, CE, Passport, RUC, Username, Document, Password, Submit, Footer string
	Messages                                                                                                   map[message]string
}

var catalog = map[string]texts{
	"es": {
		Lang: "es-PE", Title: "Ingresa a Banco Andes", Heading: "Ingresa a tu banca", Intro: "Te conectas a",
		DocType: "Tipo de documento", DNI: "DNI", CE: "Carné de extranjería", Passport: "Pasaporte", RUC: "RUC",
		Username: "Usuario", Document: "Número de documento o usuario", Password: "Contraseña", Submit: "Ingresar",
		Footer: "Banco Andes nunca te pedirá tu contraseña por teléfono, correo ni SMS.",
		Messages: map[message]string{
			msgBadRequest:     "La solicitud no es válida.",
			msgUnknownClient:  "La aplicación que te envió aquí no está registrada.",
			msgBadRedirect:    "La dirección de retorno de la aplicación no está registrada. Por tu seguridad no continuamos.",
			msgSessionExpired: "La página de ingreso expiró. Vuelve a la aplicación e inténtalo otra vez.",
			msgInvalidLogin:   "Documento o contraseña incorrectos.",
			msgLocked:         "Demasiados intentos fallidos. Tu acceso está bloqueado por unos minutos.",
			msgDisabled:       "Tu acceso está deshabilitado. Comunícate con Banco Andes.",
			msgUnavailable:    "No pudimos atenderte. Inténtalo en unos minutos.",
		},
	},
	"en": {
		Lang: "en", Title: "Sign in to Banco Andes", Heading: "Sign in to your bank", Intro: "You are signing in to",
		DocType: "Document type", DNI: "DNI (national ID)", CE: "Foreign resident card", Passport: "Passport", RUC: "RUC (tax ID)",
		Username: "Username", Document: "Document number or username", Password: "Password", Submit: "Sign in",
		Footer: "Banco Andes will never ask for your password by phone, email or SMS.",
		Messages: map[message]string{
			msgBadRequest:     "The request is not valid.",
			msgUnknownClient:  "The application that sent you here is not registered.",
			msgBadRedirect:    "The application's return address is not registered. For your safety we stop here.",
			msgSessionExpired: "The sign-in page expired. Go back to the application and try again.",
			msgInvalidLogin:   "Wrong document or password.",
			msgLocked:         "Too many failed attempts. Your access is locked for a few minutes.",
			msgDisabled:       "Your access is disabled. Please contact Banco Andes.",
			msgUnavailable:    "We could not serve you. Please try again in a few minutes.",
		},
	},
}

// pickLang chooses the page's language: ?lang=, else Accept-Language, else Spanish.
func pickLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "es" {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "es"):
			return "es"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "es"
}

type loginView struct {
	T        texts
	Client   string
	Request  string
	CSRF     string
	DocType  string
	Document string
	Error    message
	ErrorMsg string
}

const pageStyle = `body{font-family:system-ui,sans-serif;background:#f3f5f7;margin:0;color:#1d2733}
main{max-width:380px;margin:48px auto;background:#fff;padding:28px;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4em;margin:0 0 8px}label{display:block;margin:14px 0 4px;font-weight:600}
input,select{width:100%;box-sizing:border-box;padding:10px;font-size:1em;border:1px solid #b8c2cc;border-radius:4px}
button{margin-top:20px;width:100%;padding:12px;font-size:1em;background:#0b5394;color:#fff;border:0;border-radius:4px}
.error{background:#fde8e8;color:#8a1c1c;padding:10px;border-radius:4px;margin-top:12px}small{color:#5b6b7b}`

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="{{.T.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.T.Title}}</title><style>` + pageStyle + `</style></head>
<body><main>
<h1>{{.T.Heading}}</h1>
<p><small>{{.T.Intro}} <strong>{{.Client}}</strong></small></p>
{{if .ErrorMsg}}<p class="error" role="alert">{{.ErrorMsg}}</p>{{end}}
<form method="post" action="/oauth2/login" autocomplete="on">
<input type="hidden" name="request" value="{{.Request}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="document_type">{{.T.DocType}}</label>
<select id="document_type" name="document_type">
<option value="DNI"{{if eq .DocType "DNI"}} selected{{end}}>{{.T.DNI}}</option>
<option value="CE"{{if eq .DocType "CE"}} selected{{end}}>{{.T.CE}}</option>
<option value="PASSPORT"{{if eq .DocType "PASSPORT"}} selected{{end}}>{{.T.Passport}}</option>
<option value="RUC"{{if eq .DocType "RUC"}} selected{{end}}>{{.T.RUC}}</option>
<option value="USERNAME"{{if eq .DocType "USERNAME"}} selected{{end}}>{{.T.Username}}</option>
</select>
<label for="document">{{.T.Document}}</label>
<input id="document" name="document" value="{{.Document}}" required autocomplete="username" inputmode="text" maxlength="32">
<label for="password">{{.T.Password}}</label>
<input id="password" name="password" type="password" required autocomplete="current-password" maxlength="128">
<button type="submit">{{.T.Submit}}</button>
</form>
<p><small>{{.T.Footer}}</small></p>
</main></body></html>`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="{{.T.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.T.Title}}</title><style>` + pageStyle + `</style></head>
<body><main><h1>{{.T.Title}}</h1><p class="error" role="alert">{{.ErrorMsg}}</p></main></body></html>`))

func (o *OAuth) loginPage(w http.ResponseWriter, status int, lang string, v loginView) {
	v.T = catalog[lang]
	if v.T.Lang == "" {
		v.T = catalog["es"]
	}
	v.ErrorMsg = v.T.Messages[v.Error]
	o.html(w, status, loginTemplate, v)
}

func (o *OAuth) errorPage(w http.ResponseWriter, status int, lang string, m message) {
	v := loginView{T: catalog[lang], Error: m}
	if v.T.Lang == "" {
		v.T = catalog["es"]
	}
	v.ErrorMsg = v.T.Messages[m]
	o.html(w, status, errorTemplate, v)
}

func (o *OAuth) html(w http.ResponseWriter, status int, t *template.Template, v loginView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.Execute(w, v); err != nil {
		o.log.Error("login page", "err", err)
	}
}
