package herokuemu

import "time"

// The emulator's own picture of Heroku's JSON, written from the Platform API's
// documentation (see the package doc), not shared with the client it tests: a
// field the client names wrongly then fails the tests instead of passing on both
// sides.

// Drain is a log drain as the Platform API sends it.
type Drain struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Token     string    `json:"token"`
	Addon     *Addon    `json:"addon"`
	App       App       `json:"app"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Addon is the add-on that owns a drain: {id, name, app}.
type Addon struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	App  App    `json:"app"`
}

// App names an app: {id, name}.
type App struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// apiError is the body of every error answer.
type apiError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// createBody is the body of POST /apps/{app}/log-drains.
type createBody struct {
	URL *string `json:"url"`
}
