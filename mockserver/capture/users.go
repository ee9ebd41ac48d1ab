package capture

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"regsandbox/storage"
)

// Keys of the Capture state in the database. Everything lives under
// keyPrefix so a reset drops it in one go.
const (
	keyPrefix     = "capture/"
	keyUser       = keyPrefix + "user/"
	keyUnique     = keyPrefix + "unique/"
	keyIdentity   = keyPrefix + "identity/"
	keyAccess     = keyPrefix + "access/"
	keyRefresh    = keyPrefix + "refresh/"
	keyCode       = keyPrefix + "code/"
	keySocial     = keyPrefix + "social/"
	keyUserSeqKey = "seq/capture/user"
)

// User is a stored Capture user record.
type User struct {
	UUID        string    `json:"uuid"`
	ID          uint64    `json:"id"`
	Created     time.Time `json:"created"`
	LastUpdated time.Time `json:"lastUpdated"`
	// Attributes hold the schema attributes filled from forms and social
	// profiles: email, givenName, familyName, displayName, birthday, ...
	Attributes map[string]any `json:"attributes"`
	// PasswordHash is the salted hash of password.go; it never leaves
	// the back end.
	PasswordHash string    `json:"passwordHash,omitempty"`
	Profiles     []Profile `json:"profiles,omitempty"`
}

// Profile is a social identity linked to a user.
type Profile struct {
	Provider   string `json:"domain"`
	Identifier string `json:"identifier"`
}

// captureTime is how Capture writes timestamps: "2016-04-20 17:02:18.649505 +0000".
const captureTime = "2006-01-02 15:04:05.000000 -0700"

// schemaAttributes are always present in a user record, null when unset,
// as in the default Capture schema.
var schemaAttributes = []string{"email", "emailVerified", "givenName", "familyName", "displayName", "birthday"}

// Record returns the user as Capture returns it in capture_user and
// /entity results: every attribute, never the password.
func (u *User) Record() map[string]any {
	rec := make(map[string]any, len(u.Attributes)+len(schemaAttributes)+5)
	for _, name := range schemaAttributes {
		rec[name] = nil
	}
	maps.Copy(rec, u.Attributes)
	rec["id"] = u.ID
	rec["uuid"] = u.UUID
	rec["created"] = u.Created.UTC().Format(captureTime)
	rec["lastUpdated"] = u.LastUpdated.UTC().Format(captureTime)
	profiles := make([]map[string]any, 0, len(u.Profiles))
	for i, p := range u.Profiles {
		profiles = append(profiles, map[string]any{"id": i + 1, "domain": p.Provider, "identifier": p.Identifier})
	}
	rec["profiles"] = profiles
	return rec
}

// Email returns the user's e-mail address, or "".
func (u *User) Email() string {
	s, _ := u.Attributes["email"].(string)
	return s
}

// uniqueKey is the index entry that makes value of attribute unique.
// E-mail addresses compare case-insensitively, as in Capture.
func uniqueKey(attribute, value string) string {
	if attribute == "email" {
		value = strings.ToLower(value)
	}
	return keyUnique + attribute + "/" + value
}

func identityKey(provider, identifier string) string {
	return keyIdentity + provider + "/" + identifier
}

// errTaken aborts a registration whose unique values were claimed by a
// concurrent one between validation and the write.
var errTaken = errors.New("capture: unique value taken")

// newUser is what a registration writes.
type newUser struct {
	attributes   map[string]any
	passwordHash string
	profile      *Profile
	// unique lists the attributes whose values must stay unique.
	unique []string
}

// insertUser writes the user and its indexes in tx, failing with
// errTaken when a unique value or the social identity is already used.
func (b *Backend) insertUser(tx *storage.Tx, nu newUser) (*User, error) {
	for _, attr := range nu.unique {
		v, ok := nu.attributes[attr].(string)
		if !ok || v == "" {
			continue
		}
		taken, err := tx.Has(uniqueKey(attr, v))
		if err != nil {
			return nil, err
		}
		if taken {
			return nil, fmt.Errorf("%w: %s", errTaken, attr)
		}
	}
	now := b.now()
	u := &User{UUID: uuid.NewString(), Created: now, LastUpdated: now,
		Attributes: nu.attributes, PasswordHash: nu.passwordHash}
	if nu.profile != nil {
		key := identityKey(nu.profile.Provider, nu.profile.Identifier)
		if taken, err := tx.Has(key); err != nil || taken {
			return nil, errors.Join(err, errTaken)
		}
		u.Profiles = []Profile{*nu.profile}
		if err := tx.Put(key, u.UUID); err != nil {
			return nil, err
		}
	}
	id, err := b.userSeq.Next()
	if err != nil {
		return nil, err
	}
	u.ID = id
	for _, attr := range nu.unique {
		if v, ok := nu.attributes[attr].(string); ok && v != "" {
			if err := tx.Put(uniqueKey(attr, v), u.UUID); err != nil {
				return nil, err
			}
		}
	}
	return u, tx.Put(keyUser+u.UUID, u)
}

// userByUnique finds the user holding value of a unique attribute.
func userByUnique(tx *storage.Tx, attribute, value string) (*User, error) {
	var id string
	found, err := tx.Get(uniqueKey(attribute, value), &id)
	if err != nil || !found {
		return nil, err
	}
	return userByUUID(tx, id)
}

func userByUUID(tx *storage.Tx, id string) (*User, error) {
	var u User
	found, err := tx.Get(keyUser+id, &u)
	if err != nil || !found {
		return nil, err
	}
	return &u, nil
}

func userByIdentity(tx *storage.Tx, provider, identifier string) (*User, error) {
	var id string
	found, err := tx.Get(identityKey(provider, identifier), &id)
	if err != nil || !found {
		return nil, err
	}
	return userByUUID(tx, id)
}

// Users lists every registered user, newest first.
func (b *Backend) Users() ([]User, error) {
	var users []User
	err := b.db.View(func(tx *storage.Tx) error {
		var err error
		users, err = storage.List[User](tx, keyUser)
		return err
	})
	sort.Slice(users, func(i, j int) bool { return users[i].ID > users[j].ID })
	for i := range users {
		users[i].PasswordHash = ""
	}
	return users, err
}

// DeleteUser removes a user, its indexes and linked identities, so its
// e-mail address and social identity can register again.
func (b *Backend) DeleteUser(id string) error {
	return b.db.Update(func(tx *storage.Tx) error {
		u, err := userByUUID(tx, id)
		if err != nil {
			return err
		}
		if u == nil {
			return ErrNoSuchUser
		}
		for attr, v := range u.Attributes {
			if s, ok := v.(string); ok {
				key := uniqueKey(attr, s)
				var owner string
				if found, _ := tx.Get(key, &owner); found && owner == u.UUID {
					if err := tx.Delete(key); err != nil {
						return err
					}
				}
			}
		}
		for _, p := range u.Profiles {
			if err := tx.Delete(identityKey(p.Provider, p.Identifier)); err != nil {
				return err
			}
		}
		return tx.Delete(keyUser + u.UUID)
	})
}

// ErrNoSuchUser reports a user id that is not registered.
var ErrNoSuchUser = errors.New("no such user")

// Reset forgets every user, token and code.
func (b *Backend) Reset() error {
	return b.db.DeletePrefix(keyPrefix)
}
