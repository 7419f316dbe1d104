package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// unionCursor is the cursor of a merged listing: each listing's cursor
// and whether it is used up.
type unionCursor struct {
	A     string `json:"a,omitempty"`
	B     string `json:"b,omitempty"`
	ADone bool   `json:"ad,omitempty"`
	BDone bool   `json:"bd,omitempty"`
}

const unionPrefix = "u1."

// ListCallsByNumber lists, with f's other filters, the calls whose stored
// caller or called number is number OR whose caller hash is hash (ListCalls
// ANDs its filters), newest first, without duplicates, with a total and a
// cursor of its own (both listings' cursors). It is how `hotline calls
// --number` and the admin pages find a caller whatever the number policy
// kept of them. An empty hash lists by number only.
func ListCallsByNumber(ctx context.Context, st Store, f CallFilter, number, hash string) (CallPage, error) {
	if hash == "" {
		f.Number = number
		return st.ListCalls(ctx, f)
	}
	var cur unionCursor
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(f.Cursor, unionPrefix))
		if !strings.HasPrefix(f.Cursor, unionPrefix) || err != nil || json.Unmarshal(b, &cur) != nil {
			return CallPage{}, errBadCursor
		}
	}
	n := f.Limit
	if n <= 0 {
		n = 50
	}
	fa, fb, both := f, f, f
	fa.Number, fa.CallerHash, fa.Cursor = number, "", cur.A
	fb.Number, fb.CallerHash, fb.Cursor = "", hash, cur.B
	both.Number, both.CallerHash, both.Cursor, both.Limit = number, hash, "", 1
	side := func(f CallFilter, done bool) (CallPage, error) {
		if done { // only its total counts
			f.Cursor, f.Limit = "", 1
			p, err := st.ListCalls(ctx, f)
			p.Calls, p.Next = nil, ""
			return p, err
		}
		f.Limit = n
		return st.ListCalls(ctx, f)
	}
	pa, err := side(fa, cur.ADone)
	if err != nil {
		return pa, err
	}
	pb, err := side(fb, cur.BDone)
	if err != nil {
		return pb, err
	}
	pboth, err := st.ListCalls(ctx, both)
	if err != nil {
		return pboth, err
	}
	page := CallPage{Calls: []Call{}, Total: pa.Total + pb.Total - pboth.Total}
	newer := func(x, y Call) bool {
		if !x.StartedAt.Equal(y.StartedAt) {
			return x.StartedAt.After(y.StartedAt)
		}
		return x.ID > y.ID
	}
	i, j := 0, 0
	for len(page.Calls) < n && (i < len(pa.Calls) || j < len(pb.Calls)) {
		switch {
		case i < len(pa.Calls) && j < len(pb.Calls) && pa.Calls[i].ID == pb.Calls[j].ID:
			page.Calls = append(page.Calls, pa.Calls[i])
			i, j = i+1, j+1
		case j >= len(pb.Calls) || (i < len(pa.Calls) && newer(pa.Calls[i], pb.Calls[j])):
			page.Calls = append(page.Calls, pa.Calls[i])
			i++
		default:
			page.Calls = append(page.Calls, pb.Calls[j])
			j++
		}
	}
	advance := func(f CallFilter, p CallPage, used int, cur string, done bool) (string, bool, error) {
		switch {
		case done:
			return "", true, nil
		case used == 0:
			return cur, len(p.Calls) == 0, nil
		case used == len(p.Calls):
			return p.Next, p.Next == "", nil
		}
		f.Limit = used
		q, err := st.ListCalls(ctx, f)
		return q.Next, q.Next == "", err
	}
	var next unionCursor
	if next.A, next.ADone, err = advance(fa, pa, i, cur.A, cur.ADone); err != nil {
		return page, err
	}
	if next.B, next.BDone, err = advance(fb, pb, j, cur.B, cur.BDone); err != nil {
		return page, err
	}
	if !next.ADone || !next.BDone {
		b, _ := json.Marshal(next)
		page.Next = unionPrefix + base64.RawURLEncoding.EncodeToString(b)
	}
	return page, nil
}
