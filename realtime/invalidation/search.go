package invalidation

// Search subscriptions live in an inverted index per search index: each
// query word (an exact term or a prefix) maps to a posting list of the
// search reads that used it. A written document looks up each of its tokens
// (and, when the index has prefix reads, each prefix of each token), so the
// cost of a commit grows with the tokens it wrote and the reads they hit,
// never with the number of subscriptions. Posting lists are unordered
// slices with swap-removal; every read remembers its position in each of its
// lists so removal is O(words).
//
// Most searches are filtered (search within this conversation, this
// user's documents), and a common word is searched under thousands of
// filters. So a filtered read is posted under its word together with one of
// its filters (field and value), the one whose list was shortest when the
// read arrived, and a document looks up each token once bare (for
// unfiltered reads) and once with each of its own field values. A document
// can only match a read whose every filter it carries, so it always finds
// the read's list; the remaining filters are checked on the few reads found.

type posting struct {
	read int32 // search read
	word int32 // which of the read's words this posting is for
}

// postingKey names a posting list: a word, alone or with one filter.
type postingKey struct {
	word     string
	field    string
	value    string
	filtered bool
}

type searchIndex struct {
	terms    map[postingKey][]posting
	prefixes map[postingKey][]posting
	// longestPrefix bounds the prefixes of a token worth looking up. It only
	// grows; a stale high value costs a few map misses, never a wrong answer.
	longestPrefix int
	members       []int32 // every search read on this index
}

type searchRead struct {
	words     []string // exact terms, then prefixes
	nTerms    int
	pos       []int32 // position in each word's posting list
	filters   []FieldEq
	via       int32 // the filter the read is posted under; -1 for none
	sub       int32
	index     int32
	memberPos int32
	next      int32 // next search read of the same subscription
	mark      uint32
}

// metaRead is a derived read of one index's metadata.
type metaRead struct {
	sub       int32
	index     int32
	memberPos int32
	next      int32
}

func newSearchIndex() *searchIndex {
	return &searchIndex{terms: map[postingKey][]posting{}, prefixes: map[postingKey][]posting{}}
}

// key is the posting list of the read's w-th word.
func (q *searchRead) key(w int) postingKey {
	if q.via < 0 {
		return postingKey{word: q.words[w]}
	}
	f := q.filters[q.via]
	return postingKey{word: q.words[w], field: f.Field, value: f.Value, filtered: true}
}

func (e *Engine) addSearchRead(slot int32, q SearchRead) int32 {
	ix := e.indexID(q.Index)
	si := e.indexes[ix].search
	if si == nil {
		si = newSearchIndex()
		e.indexes[ix].search = si
	}
	r := takeSlot(&e.searches, &e.freeSearch)
	words := make([]string, 0, len(q.Terms)+len(q.Prefixes))
	words = append(words, q.Terms...)
	words = append(words, q.Prefixes...)
	var filters []FieldEq
	if len(q.Filters) > 0 {
		filters = append([]FieldEq(nil), q.Filters...)
	}
	e.searches[r] = searchRead{
		words: words, nTerms: len(q.Terms), pos: make([]int32, len(words)), filters: filters,
		via: -1, sub: slot, index: ix, memberPos: int32(len(si.members)),
		next: e.subs[slot].searches,
	}
	read := &e.searches[r]
	lists := func(w int) map[postingKey][]posting {
		if w >= read.nTerms {
			return si.prefixes
		}
		return si.terms
	}
	// Post under the filter whose list for the first word is shortest now.
	bestVia, best := int32(-1), 0
	for i := range filters {
		read.via = int32(i)
		if n := len(lists(0)[read.key(0)]); bestVia < 0 || n < best {
			bestVia, best = int32(i), n
		}
	}
	read.via = bestVia
	for w, word := range words {
		if w >= read.nTerms {
			si.longestPrefix = max(si.longestPrefix, len(word))
		}
		k := read.key(w)
		l := lists(w)
		read.pos[w] = int32(len(l[k]))
		l[k] = append(l[k], posting{read: r, word: int32(w)})
	}
	si.members = append(si.members, r)
	e.subs[slot].searches = r
	return r
}

func (e *Engine) removeSearchRead(r int32) {
	q := &e.searches[r]
	si := e.indexes[q.index].search
	for w := range q.words {
		lists := si.terms
		if w >= q.nTerms {
			lists = si.prefixes
		}
		k := q.key(w)
		list := swapRemove(lists[k], q.pos[w], func(p posting, pos int32) { e.searches[p.read].pos[p.word] = pos })
		if len(list) == 0 {
			delete(lists, k)
		} else {
			lists[k] = list
		}
	}
	si.members = swapRemove(si.members, q.memberPos, func(r, pos int32) { e.searches[r].memberPos = pos })
	e.searches[r] = searchRead{}
	e.freeSearch = append(e.freeSearch, r)
}

func (e *Engine) addMetaRead(slot int32, index string) {
	ix := e.indexID(index)
	m := takeSlot(&e.metas, &e.freeMeta)
	in := &e.indexes[ix]
	e.metas[m] = metaRead{sub: slot, index: ix, memberPos: int32(len(in.meta)), next: e.subs[slot].metas}
	in.meta = append(in.meta, m)
	e.subs[slot].metas = m
}

func (e *Engine) removeMetaRead(m int32) {
	in := &e.indexes[e.metas[m].index]
	in.meta = swapRemove(in.meta, e.metas[m].memberPos, func(r, pos int32) { e.metas[r].memberPos = pos })
	e.metas[m] = metaRead{}
	e.freeMeta = append(e.freeMeta, m)
}

// filtersMatch reports whether every filter of the read has an equal field
// value in the document.
func filtersMatch(filters, fields []FieldEq) bool {
	for _, f := range filters {
		found := false
		for _, d := range fields {
			if d.Field == f.Field && d.Value == f.Value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// matchDoc calls e.hit for every search subscription the document affects.
// The caller has advanced e.docEpoch for this document.
func (e *Engine) matchDoc(si *searchIndex, tokens []string, fields []FieldEq, ts Timestamp) {
	for _, tok := range tokens {
		e.matchPostings(si.terms, tok, fields, ts)
		if len(si.prefixes) == 0 {
			continue
		}
		for l := 0; l <= len(tok) && l <= si.longestPrefix; l++ {
			e.matchPostings(si.prefixes, tok[:l], fields, ts)
		}
	}
}

// matchPostings judges the reads posted under word, bare and with each of
// the document's field values.
func (e *Engine) matchPostings(lists map[postingKey][]posting, word string, fields []FieldEq, ts Timestamp) {
	for _, p := range lists[postingKey{word: word}] {
		e.matchRead(p.read, fields, ts)
	}
	for _, f := range fields {
		for _, p := range lists[postingKey{word: word, field: f.Field, value: f.Value, filtered: true}] {
			e.matchRead(p.read, fields, ts)
		}
	}
}

func (e *Engine) matchRead(r int32, fields []FieldEq, ts Timestamp) {
	q := &e.searches[r]
	if q.mark == e.docEpoch {
		return // already judged for this document
	}
	q.mark = e.docEpoch
	if filtersMatch(q.filters, fields) {
		e.hit(q.sub, ts)
	}
}

// readMatchesDoc is the direct test of one read against one document, for
// checking a single subscription against the write log.
func readMatchesDoc(q *searchRead, tokens []string, fields []FieldEq) bool {
	if !filtersMatch(q.filters, fields) {
		return false
	}
	for _, tok := range tokens {
		for w, word := range q.words {
			if w < q.nTerms {
				if tok == word {
					return true
				}
			} else if len(tok) >= len(word) && tok[:len(word)] == word {
				return true
			}
		}
	}
	return false
}
