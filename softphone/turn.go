package softphone

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"time"
)

// TURNREST hands out TURN credentials that expire, the "TURN REST API" scheme coturn checks with
// use-auth-secret and static-auth-secret: the username is "<expiry as Unix time>:<agent id>" and
// the credential base64(HMAC-SHA1(secret, username)). The TURN server needs no list of users, a
// credential copied out of a page is worth TTL at most, and each names the agent it was given to.
type TURNREST struct {
	URLs   []string // turn: and turns: URLs of the servers sharing Secret
	Secret string
	// TTL is how long a credential lasts. The agent's PeerConnection stays up the whole shift and
	// refreshes its TURN allocation with the credential it started with, so TTL must outlast a
	// shift; a reloaded page gets a fresh one.
	TTL time.Duration
}

// Server returns the TURN server entry for agentID, valid from now for TTL.
func (t *TURNREST) Server(agentID string, now time.Time) ICEServer {
	user := strconv.FormatInt(now.Add(t.TTL).Unix(), 10) + ":" + agentID
	return ICEServer{URLs: t.URLs, Username: user, Credential: turnCredential(t.Secret, user)}
}

func turnCredential(secret, user string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(user))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
