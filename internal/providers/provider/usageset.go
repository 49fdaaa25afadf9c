package provider

// usageKey identifies a usage record: its kind, dimensions, account and
// bucket.
type usageKey struct {
	start, end                                          int64
	kind, project, model, lineItem, category, apiKey, a string
}

func usageKeyOf(u Usage) usageKey {
	return usageKey{u.Start.Unix(), u.End.Unix(), u.Kind, u.Project, u.Model, u.LineItem, u.Category, u.APIKey, u.Account}
}

// UsageSet keeps Usage records in the order first seen, one per key.
type UsageSet struct {
	idx  map[usageKey]int
	list []Usage
}

// Sum adds u to the record with its key: within one bucket, results that
// differ only in groups Nexus has no dimension for (user, batch, service
// tier, endpoint) add up.
func (s *UsageSet) Sum(u Usage) {
	if s.idx == nil {
		s.idx = map[usageKey]int{}
	}
	k := usageKeyOf(u)
	if i, ok := s.idx[k]; ok {
		s.list[i].Value = s.list[i].Value.Add(u.Value)
		return
	}
	s.idx[k] = len(s.list)
	s.list = append(s.list, u)
}

// ReplaceAll stores us, replacing records with the same key: a bucket the
// provider sent twice counts once.
func (s *UsageSet) ReplaceAll(us []Usage) {
	if s.idx == nil {
		s.idx = map[usageKey]int{}
	}
	for _, u := range us {
		k := usageKeyOf(u)
		if i, ok := s.idx[k]; ok {
			s.list[i] = u
			continue
		}
		s.idx[k] = len(s.list)
		s.list = append(s.list, u)
	}
}

// List returns the records in the order first seen.
func (s *UsageSet) List() []Usage { return s.list }
