package mail

import (
	"encoding/json"
	"html/template"
	"net/http"
)

var page = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Andes mail simulator</title>
<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:.5em;white-space:pre-wrap}</style></head>
<body><h1>Mail received</h1>
{{range .}}<h2>#{{.ID}} to {{range $i, $t := .To}}{{if $i}}, {{end}}{{$t}}{{end}}</h2>
<p>from {{.From}} at {{.Received.Format "2006-01-02 15:04:05"}}</p><pre>{{.Data}}</pre>
{{else}}<p>Nothing yet.</p>{{end}}</body></html>
`))

// Page shows the received messages: HTML at /, JSON at /messages (newest first).
func Page(s *Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, s.List())
	})
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.List())
	})
	return mux
}
