package domain

// Currency is an ISO 4217 currency as the card ledger needs it: the alphabetic code
// accounts and the API use, and the numeric code DE49 and DE51 carry.
type Currency struct {
	Alpha    string
	Numeric  string
	Exponent int
}

// currencies the programs may run in, and those a network may convert from.
var currencies = []Currency{
	{"PEN", "604", 2}, {"USD", "840", 2}, {"CLP", "152", 0}, {"COP", "170", 2},
	{"MXN", "484", 2}, {"BRL", "986", 2}, {"ARS", "032", 2}, {"BOB", "068", 2},
	{"EUR", "978", 2}, {"GBP", "826", 2}, {"JPY", "392", 0}, {"CAD", "124", 2},
}

// CurrencyByAlpha finds a currency by its alphabetic code.
func CurrencyByAlpha(alpha string) (Currency, bool) {
	for _, c := range currencies {
		if c.Alpha == alpha {
			return c, true
		}
	}
	return Currency{}, false
}

// CurrencyByNumeric finds a currency by its numeric code.
func CurrencyByNumeric(numeric string) (Currency, bool) {
	for _, c := range currencies {
		if c.Numeric == numeric {
			return c, true
		}
	}
	return Currency{}, false
}
