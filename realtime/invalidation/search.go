package invalidation

// Search subscriptions live in an inverted index per search index: each
// query word (an exact term or a prefix) maps to a posting list of the
// search reads that used it. A written document looks up each of its tokens
// (and, when the index has prefix reads, each prefix of each token), so the
// cost of a commit grows with the tokens it wrote and the reads they hit,
// never with the number of subscriptions. Posting lists are unordered
// slices with swap-removal; every read remembers its position in each of its
// lists so removal is O(words).

type posting struct {
	read int32 // search read
	word int32 // which of the read's words this posting is for
}

type searchIndex struct {
	terms    map[string][]posting
	prefixes map[string][]posting
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
	return &searchIndex{terms: map[string][]posting{}, prefixes: map[string][]posting{}}
}

func (e *Engine) addSearchRead(slot int32, q SearchRead) int32 {
	ix := e.indexID(q.Index)
	si := e.indexes[ix].search
	if si == nil {
		si = newSearchIndex()
		e.indexes[ix].search = si
	}
	var r int32
	if n := len(e.freeSearch); n > 0 {
		r = e.freeSearch[n-1]
		e.freeSearch = e.freeSearch[:n-1]
	} else {
		e.searches = append(e.searches, searchRead{})
		r = int32(len(e.searches) - 1)
	}
	words := make([]string, 0, len(q.Terms)+len(q.Prefixes))
	words = append(words, q.Terms...)
	words = append(words, q.Prefixes...)
	pos := make([]int32, len(words))
	for w, word := range words {
		lists := si.terms
		if w >= len(q.Terms) {
			lists = si.prefixes
			si.longestPrefix = max(si.longestPrefix, len(word))
		}
		pos[w] = int32(len(lists[word]))
		lists[word] = append(lists[word], posting{read: r, word: int32(w)})
	}
	var filters []FieldEq
	if len(q.Filters) > 0 {
		filters = append([]FieldEq(nil), q.Filters...)
	}
	e.searches[r] = searchRead{
		words: words, nTerms: len(q.Terms), pos: pos, filters: filters,
		sub: slot, index: ix, memberPos: int32(len(si.members)),
		next: e.subs[slot].searches,
	}
	si.members = append(si.members, r)
	e.subs[slot].searches = r
	return r
}

func (e *Engine) removeSearchRead(r int32) {
	q := &e.searches[r]
	si := e.indexes[q.index].search
	for w, word := range q.words {
		lists := si.terms
		if w >= q.nTerms {
			lists = si.prefixes
		}
		list := lists[word]
		i := q.pos[w]
		last := list[len(list)-1]
		list[i] = last
		e.searches[last.read].pos[last.word] = i
		list = list[:len(list)-1]
		if len(list) == 0 {
			delete(lists, word)
		} else {
			lists[word] = list
		}
	}
	i := q.memberPos
	last := si.members[len(si.members)-1]
	si.members[i] = last
	e.searches[last].memberPos = i
	si.members = si.members[:len(si.members)-1]
	e.searches[r] = searchRead{}
	e.freeSearch = append(e.freeSearch, r)
}

func (e *Engine) addMetaRead(slot int32, index string) {
	ix := e.indexID(index)
	var m int32
	if n := len(e.freeMeta); n > 0 {
		m = e.freeMeta[n-1]
		e.freeMeta = e.freeMeta[:n-1]
	} else {
		e.metas = append(e.metas, metaRead{})
		m = int32(len(e.metas) - 1)
	}
	in := &e.indexes[ix]
	e.metas[m] = metaRead{sub: slot, index: ix, memberPos: int32(len(in.meta)), next: e.subs[slot].metas}
	in.meta = append(in.meta, m)
	e.subs[slot].metas = m
}

func (e *Engine) removeMetaRead(m int32) {
	in := &e.indexes[e.metas[m].index]
	i := e.metas[m].memberPos
	last := in.meta[len(in.meta)-1]
	in.meta[i] = last
	e.metas[last].memberPos = i
	in.meta = in.meta[:len(in.meta)-1]
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
func (e *Engine) matchDoc(si *searchIndex, tokens []string, fields []FieldEq, ts Timestamp) {
	e.docEpoch++
	for _, tok := range tokens {
		for _, p := range si.terms[tok] {
			e.matchRead(p.read, fields, ts)
		}
		if len(si.prefixes) == 0 {
			continue
		}
		for l := 0; l <= len(tok) && l <= si.longestPrefix; l++ {
			for _, p := range si.prefixes[tok[:l]] {
				e.matchRead(p.read, fields, ts)
			}
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
