package cwlemu

// lockGroup takes the server's lock and returns the named group; when there is no
// such group it releases the lock and answers ResourceNotFoundException. On
// success the caller holds the lock and releases it.
func (s *Server) lockGroup(name string) (*group, *apiError) {
	s.mu.Lock()
	g := s.groups[name]
	if g == nil {
		s.mu.Unlock()
		return nil, groupNotFound()
	}
	return g, nil
}

// lockPage decodes a listing's page token (see encodeOffset), then locks the
// named group as lockGroup does.
func (s *Server) lockPage(name, token string) (*group, int, *apiError) {
	start, aerr := decodeOffset(token)
	if aerr != nil {
		return nil, 0, aerr
	}
	g, aerr := s.lockGroup(name)
	return g, start, aerr
}

// lockStream is lockGroup for a stream of the group: ResourceNotFoundException
// names the group or the stream that does not exist.
func (s *Server) lockStream(group, stream string) (*group, *stream, *apiError) {
	g, aerr := s.lockGroup(group)
	if aerr != nil {
		return nil, nil, aerr
	}
	st := g.streams[stream]
	if st == nil {
		s.mu.Unlock()
		return nil, nil, streamNotFound()
	}
	return g, st, nil
}
