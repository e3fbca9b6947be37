package cwlemu

import (
	"encoding/base64"
	"strconv"
	"strings"
)

const offsetTokenPrefix = "offset:"

// encodeOffset makes an opaque nextToken that resumes a listing at position n.
func encodeOffset(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(offsetTokenPrefix + strconv.Itoa(n)))
}

// decodeOffset reads a token made by encodeOffset; "" is the start of the listing.
func decodeOffset(tok string) (int, *apiError) {
	if tok == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, invalidNextToken()
	}
	digits, ok := strings.CutPrefix(string(raw), offsetTokenPrefix)
	n, err := strconv.Atoi(digits)
	if !ok || err != nil || n < 0 {
		return 0, invalidNextToken()
	}
	return n, nil
}

func invalidNextToken() *apiError {
	return invalidParameter("The specified nextToken is invalid.")
}

// pageOf returns up to limit items from start, and the token of the next page, ""
// when this page reaches the end.
func pageOf[T any](all []T, start, limit int) ([]T, string) {
	if start >= len(all) {
		return nil, ""
	}
	end := min(len(all), start+limit)
	if end == len(all) {
		return all[start:end], ""
	}
	return all[start:end], encodeOffset(end)
}

// limitOr is the requested page size, or def when none was given.
func limitOr(limit *int32, def int) int {
	if limit == nil {
		return def
	}
	return int(*limit)
}
