// Package cluster lets several drainpipe nodes share one NATS JetStream engine:
// it keeps the registry of nodes and hands out leases, both in key-value buckets
// on the journal's engine, so a cluster needs no second database.
//
// # Nodes
//
// Every node writes its entry (name, a random boot id, the sinks it runs, its
// address) into the bucket drainpipe_nodes every Heartbeat. A node is live while
// its entry keeps changing: the entry's age is read on the NATS server's clock
// (the time the server stored it), so the nodes' own clocks do not matter. A node
// that stops cleanly marks its entry stopped; a node whose entry is older than
// NodeTimeout is gone for good, and Janitor hands it to a cleanup (the journal
// deletes its archive replica's cursor) before forgetting it.
//
// Two processes must not share a name: when Join finds a live entry of its name
// with another boot id it waits three heartbeats for it to fall silent (a process
// killed just before this one started), and refuses to start if it does not.
//
// # Leases
//
// A lease is a key in the bucket drainpipe_leases, whose entries expire LeaseTTL
// after they were last written (the bucket's MaxAge). A node takes a free lease by
// creating its key (only one create succeeds), keeps it by updating the key with
// the revision it last wrote every LeaseTTL/4, and gives it back by deleting it.
// It acts as the owner only while its last successful renewal, counted from
// before it was sent, is younger than three quarters of LeaseTTL: a node that can
// no longer reach NATS stops a quarter of LeaseTTL before the server lets another
// node take the key. Work under a lease runs with a context that ends when the
// lease is lost or given back; the lease is deleted only after that work returned.
//
// Share spreads the n parts of a group (the journal's partitions of one sink) over
// the live nodes that run the group, ceil(n/nodes) each at most, each part owned
// by one node at a time: every node prefers the parts that hash highest with its
// name (rendezvous hashing), so the same node tends to get the same parts back
// after a restart, and a node holding more than its share gives the extra back
// when another node joins. Hold is Share of a single part that any node may hold
// (the purge, the alert evaluator).
package cluster
