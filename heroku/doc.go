// Package heroku speaks to Heroku on drainpipe's behalf: a small client of the
// Platform API's log-drain endpoints (add, list, look up and remove the drains that
// point Heroku's logs at drainpipe) and the lookup of the user's API key. Heroku's
// words inside the log stream (its loss reports) are package herokulog's.
//
// The client is ours rather than heroku-go because it needs only four endpoints,
// and because the things that matter to operators (rate limits that back off instead
// of failing, errors that say what to do, a key that never reaches a log) are easier
// to guarantee in a few hundred lines than around a generated client.
//
// Two of Heroku's texts steer the client and are unconfirmed against production
// (see herokuemu's list): a 422 whose message contains "already been taken" is a
// duplicate drain URL, and a 404 whose message mentions "app" is an unknown app
// rather than an unknown drain. Should Heroku word them otherwise, EnsureLogDrain
// reports the 422 instead of finding the drain, and a 404 names the drain.
//
// Its test double, driven by this client over real HTTP, is package herokuemu.
package heroku
