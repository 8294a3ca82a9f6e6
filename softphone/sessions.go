package softphone

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// SessionStore keeps logged-in agents' sessions by an opaque token (the cookie's value). The
// in-memory one is enough for one gateway host; a shared store lets several hosts serve the page.
type SessionStore interface {
	// Create starts a session for agent and returns its token.
	Create(agent Agent) (token string, err error)
	// Get returns the session's agent, false when the token is unknown or expired.
	Get(token string) (Agent, bool)
	// Delete ends a session.
	Delete(token string)
}

// MemorySessions is a SessionStore in memory; sessions last TTL from their creation.
type MemorySessions struct {
	TTL time.Duration
	Now func() time.Time // for tests; time.Now when nil

	mu       sync.Mutex
	sessions map[string]memorySession
}

type memorySession struct {
	agent   Agent
	expires time.Time
}

// NewMemorySessions returns an empty store whose sessions last ttl (12 hours when zero: a shift).
func NewMemorySessions(ttl time.Duration) *MemorySessions {
	if ttl <= 0 {
		ttl = 12 * time.Hour
	}
	return &MemorySessions{TTL: ttl, sessions: make(map[string]memorySession)}
}

func (m *MemorySessions) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Create implements SessionStore.
func (m *MemorySessions) Create(agent Agent) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	// Sweep expired sessions on the way: logins are rare enough.
	for t, s := range m.sessions {
		if now.After(s.expires) {
			delete(m.sessions, t)
		}
	}
	m.sessions[token] = memorySession{agent: agent, expires: now.Add(m.TTL)}
	return token, nil
}

// Get implements SessionStore.
func (m *MemorySessions) Get(token string) (Agent, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[token]
	if !ok || m.now().After(s.expires) {
		return Agent{}, false
	}
	return s.agent, true
}

// Delete implements SessionStore.
func (m *MemorySessions) Delete(token string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, token)
}
