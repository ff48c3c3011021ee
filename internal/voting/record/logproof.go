package record

import (
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// A range proof ties every entry of a span [first, end) of a log of size
// n to the log's RFC 6962 root: with the leaf hashes of the span, the
// verifier needs only the hashes of the subtrees that lie wholly outside
// it. Walk the tree as RFC 6962 §2.1 defines it — the node [lo, hi) of
// more than one leaf has children [lo, lo+k) and [lo+k, hi), k the
// largest power of two below hi−lo — from the root [0, n): a node within
// the span is computed from its leaves; a node outside the span that is a
// complete subtree (hi−lo a power of two) is the next hash of the proof;
// any other node is split. The proof lists those hashes in the order the
// walk meets them, left to right; at most two per level.

// RangeProof returns the hashes that prove the span [first, end) of the
// log of size n, read from the log's stored hashes (tlog numbering), for
// a writer of a record.
func RangeProof(hr tlog.HashReader, n, first, end int64) ([]tlog.Hash, error) {
	if err := checkSpan(n, first, end); err != nil {
		return nil, err
	}
	var idx []int64
	walkRange(n, first, end, func(level int, index int64) {
		idx = append(idx, tlog.StoredHashIndex(level, index))
	})
	if len(idx) == 0 {
		return nil, nil
	}
	return hr.ReadHashes(idx)
}

func checkSpan(n, first, end int64) error {
	if first < 0 || first > end || end > n {
		return fmt.Errorf("%w: span [%d, %d) is not within a log of %d entries", ErrInvalid, first, end, n)
	}
	return nil
}

// walkRange calls outside for each complete subtree outside the span, in
// order.
func walkRange(n, first, end int64, outside func(level int, index int64)) {
	var walk func(lo, hi int64)
	walk = func(lo, hi int64) {
		switch {
		case lo >= first && hi <= end && lo < hi && first < end:
			// within the span: computed from the leaves
		case (hi <= first || lo >= end) && isPow2(hi-lo):
			level := bits.TrailingZeros64(uint64(hi - lo))
			outside(level, lo>>level)
		default:
			k := splitPoint(hi - lo)
			walk(lo, lo+k)
			walk(lo+k, hi)
		}
	}
	if n > 0 {
		walk(0, n)
	}
}

// rangeRoot computes the root of the log of size n from the leaf hashes
// of the span [first, first+len(leaves)) and the proof.
func rangeRoot(n, first int64, leaves, proof []tlog.Hash) (tlog.Hash, error) {
	end := first + int64(len(leaves))
	if err := checkSpan(n, first, end); err != nil {
		return tlog.Hash{}, err
	}
	if n == 0 {
		return tlog.TreeHash(0, nil)
	}
	next := 0
	var errShort = errors.New("the range proof has too few hashes")
	var walk func(lo, hi int64) (tlog.Hash, error)
	walk = func(lo, hi int64) (tlog.Hash, error) {
		switch {
		case lo >= first && hi <= end:
			return spanHash(leaves[lo-first : hi-first]), nil
		case (hi <= first || lo >= end) && isPow2(hi-lo):
			if next >= len(proof) {
				return tlog.Hash{}, errShort
			}
			next++
			return proof[next-1], nil
		}
		k := splitPoint(hi - lo)
		l, err := walk(lo, lo+k)
		if err != nil {
			return l, err
		}
		r, err := walk(lo+k, hi)
		if err != nil {
			return r, err
		}
		return tlog.NodeHash(l, r), nil
	}
	root, err := walk(0, n)
	if err != nil {
		return root, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if next != len(proof) {
		return root, fmt.Errorf("%w: the range proof has %d hashes, the span needs %d", ErrInvalid, len(proof), next)
	}
	return root, nil
}

// spanHash is the RFC 6962 hash of the tree of the given leaf hashes.
func spanHash(leaves []tlog.Hash) tlog.Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := splitPoint(int64(len(leaves)))
	return tlog.NodeHash(spanHash(leaves[:k]), spanHash(leaves[k:]))
}

// splitPoint is the largest power of two below n, for n ≥ 2.
func splitPoint(n int64) int64 {
	return 1 << (63 - bits.LeadingZeros64(uint64(n-1)))
}

func isPow2(n int64) bool { return n > 0 && n&(n-1) == 0 }
