package hsm

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
)

// PINPadHandler plays the card network's PIN pad for tests on the admin
// listener: POST {"pan":"…","pin":"…"} answers {"pin_block":"<16 hex>"}, the PIN
// encrypted as ISO 9564 format 0 under the zone PIN key. The network holds that
// key, the issuer never does, so a test of the issuer that must send a PIN
// block (setting a PIN, an ATM withdrawal) asks the HSM rather than holding
// the key and the cryptography itself. It is only on the loopback admin
// listener: a real HSM's host interface takes no clear PIN.
func (s *Service) PINPadHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var in struct {
			PAN string `json:"pan"`
			PIN string `json:"pin"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			http.Error(w, "body must be JSON with pan and pin", http.StatusBadRequest)
			return
		}
		block, err := paycrypto.EncryptPINBlock(s.engine.keys.ZPK, in.PIN, in.PAN)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest) // paycrypto's errors carry no secret
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"pin_block": strings.ToUpper(hex.EncodeToString(block[:]))})
	})
}
