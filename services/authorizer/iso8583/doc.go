// Package iso8583 is the card networks' wire format as Andes speaks it:
// ISO 8583:1987 in the layout of jPOS's ISO87BPackager, with text in ASCII
// or EBCDIC (IBM-1047) as a setting of each listener, in frames that carry a
// 2-byte big-endian length header.
//
// # Two ways in
//
// NewSpec builds a github.com/moov-io/iso8583 MessageSpec of the layout,
// with this package's BCD, EBCDIC and binary encoders and BCD length
// prefixers behind moov's interfaces. Tools use it through moov messages:
// bankctl's decode and encode (Codec.DecodeJSON and EncodeJSON, or
// MarshalMessageJSON and UnmarshalMessageJSON), the card network simulator.
//
// Codec is the authorizer's hot path over the same field table. It reads a
// frame into a typed Request and writes the response straight from the
// request's bytes, with no moov message, map or reflection in between:
// UnpackRequest, then AppendResponse with the decision. A frame that fails
// gives a moov errors.UnpackError naming the field; AppendFormatError then
// answers it with DE39 30 when its MTI and STAN can still be read.
//
// # Wire layout
//
//   - MTI and fixed numeric fields (IFB_NUMERIC): packed BCD, an odd digit
//     count padded with a 0 nibble on the left.
//   - Bitmaps: 8 binary bytes each; bit 1 announces the secondary bitmap.
//     A third bitmap (bit 65) is not supported.
//   - LLVAR numerics (IFB_LLNUM: DE2, DE32, DE33, DE35, DE99, DE100): one
//     BCD length byte counting digits, then the digits in BCD padded with a
//     0 nibble on the right, as ISO87BPackager (pad = false, jPOS's
//     BCDInterpreter.RIGHT_PADDED) does. An F pad nibble is accepted on input.
//   - Track 2 (DE35): as above, its separator the nibble D. 'D' and '=' are
//     both accepted on output; input decodes to 'D'.
//   - LLVAR and LLLVAR text (IFB_LLCHAR, IFB_LLLCHAR): BCD length of one or
//     two bytes (up to 99 and 999 characters), then text.
//   - Fixed text (IF_CHAR: DE37, DE38, DE39, DE41, DE42, DE43, DE49–DE51,
//     DE95 ...): space-padded on the right; trailing spaces are trimmed on
//     input, as jPOS does.
//   - Binary fields (DE52 PIN block, DE55 ICC data, DE64/DE128 MAC) are
//     never translated. DE55 is LLL binary: jPOS's IFB_LLLCHAR passes the
//     same bytes through on an ASCII link.
//   - Signed amounts (IFB_AMOUNT: DE28–DE31, DE97): a C or D character in
//     the text encoding, then BCD digits.
//
// Text is ISO 8859-1 inside a moov message (one byte per character, as on
// the wire) and UTF-8 in the typed structs and JSON.
//
// # DE48, Additional Data — Private
//
// A sequence of subelements, each a 2-character tag, a 2-digit length in
// characters and the value, in any order; unknown tags are skipped:
//
//	01  an..99  network transaction id: links an authorization with its
//	            incremental authorizations, completion and reversals
//	02  n1      terminal can take a partial approval: 1 yes, 0 no
//	03  n3..4   CVV2 as entered (masked in JSON, never echoed)
//	04  n2      e-commerce indicator: 05 authenticated, 06 attempted,
//	            07 secure channel, 08 not secure
//
// For example "0115581234567890123020110303737" is transaction id
// 581234567890123, partial approval supported, CVV2 737. A response carries
// tag 01 alone.
//
// # DE54, Additional Amounts
//
// Blocks of 20 characters (ISO 8583:1987): account type n2 (DE3 positions
// 3–4), amount type n2, currency n3 (ISO 4217 numeric), sign C or D,
// amount n12 in minor units. A partial approval (DE39 10) puts the approved
// amounts in DE4 and DE6 and the requested ones here as amount type 57
// (original amount), sign D: one block in DE49's currency and, when the
// request had DE6, one in DE51's.
//
// # DE90, Original Data Elements
//
// 42 digits: original MTI n4, STAN n6, transmission date and time n10,
// acquiring and forwarding institution ids n11 each, zero-filled on the left.
//
// # DE95, Replacement Amounts
//
// 42 characters, the amounts that remain after a partial reversal, i.e. the
// final amounts: transaction n12, settlement n12, cardholder billing n12,
// then 000000. This is Mastercard's layout; ISO 1987 has fees where the
// billing amount is, and holds are kept in the card account's (billing)
// currency. A full reversal has no DE95, or zeros.
package iso8583
