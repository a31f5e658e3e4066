package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/services/customer/domain"
)

// SeedStats counts what a seeding added; a second run adds nothing.
type SeedStats struct {
	Partners, Customers, Accounts, Preferences int64
}

// Seed loads the demo bank: partners (with their agents' settlement accounts),
// customers, their accounts and default preferences. Rows come in by COPY into
// temporary tables and move with INSERT ... ON CONFLICT DO NOTHING, in one
// transaction, so a restart or a concurrent replica seeds once and never overwrites
// what customers changed since.
func (s *Store) Seed(ctx context.Context, d *demo.Dataset, now time.Time) (SeedStats, error) {
	var st SeedStats
	err := postgres.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		settlement := map[string]string{}
		for _, a := range d.Agents {
			if settlement[a.Partner] == "" {
				settlement[a.Partner] = a.Account.Number
			}
		}
		for _, p := range d.Partners {
			tag, err := tx.Exec(ctx, `INSERT INTO partners (partner_id, display_name, settlement_account_number, created_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT (partner_id) DO NOTHING`, p.Key, p.Name, settlement[p.Key], now)
			if err != nil {
				return fmt.Errorf("seed partners: %w", err)
			}
			st.Partners += tag.RowsAffected()
		}

		if _, err := tx.Exec(ctx, `
			CREATE TEMP TABLE seed_customers (LIKE customers INCLUDING DEFAULTS) ON COMMIT DROP;
			CREATE TEMP TABLE seed_accounts (LIKE accounts INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		customers := make([][]any, 0, len(d.Customers))
		var accounts [][]any
		// Distinct microseconds keep the file's order as the order of creation and
		// opening, so lists sort the way the demo reads.
		tick := 0
		at := func() time.Time { tick++; return now.Add(time.Duration(tick) * time.Microsecond) }
		for _, c := range d.Customers {
			var partner any
			if c.Partner != "" {
				partner = c.Partner
			}
			created := at()
			customers = append(customers, []any{c.ID, c.CoreNumber, partner, c.DocumentType, c.DocumentNumber,
				c.GivenNames, c.FamilyNames, c.BirthDate, c.Email, c.Phone, domain.CustomerActive, created, created})
			for _, a := range c.Accounts {
				accounts = append(accounts, []any{domain.AccountID(a.Number), c.ID, a.Number, a.Type, a.Currency, a.Status, at()})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_customers"},
			[]string{"customer_id", "core_customer_number", "partner_id", "document_type", "document_number",
				"given_names", "family_names", "birth_date", "email", "phone_number", "status", "created_at", "updated_at"},
			pgx.CopyFromRows(customers)); err != nil {
			return fmt.Errorf("seed customers: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_accounts"},
			[]string{"account_id", "customer_id", "account_number", "type", "currency", "status", "opened_at"},
			pgx.CopyFromRows(accounts)); err != nil {
			return fmt.Errorf("seed accounts: %w", err)
		}
		steps := []struct {
			n   *int64
			sql string
		}{
			{&st.Customers, `INSERT INTO customers SELECT * FROM seed_customers ON CONFLICT DO NOTHING`},
			{&st.Accounts, `INSERT INTO accounts SELECT a.* FROM seed_accounts a
				JOIN customers c ON c.customer_id = a.customer_id ON CONFLICT DO NOTHING`},
			{&st.Preferences, `INSERT INTO preferences (customer_id, updated_at)
				SELECT customer_id, $1 FROM seed_customers ON CONFLICT DO NOTHING`},
		}
		for _, step := range steps {
			var args []any
			if step.n == &st.Preferences {
				args = append(args, now)
			}
			tag, err := tx.Exec(ctx, step.sql, args...)
			if err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			*step.n = tag.RowsAffected()
		}
		return nil
	})
	return st, err
}
