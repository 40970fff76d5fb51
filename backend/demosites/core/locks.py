"""The order in which a state change takes its locks — written down once, here.

On PostgreSQL (READ COMMITTED) every writing transaction takes its locks in this order, and
releases them all at commit or rollback:

1. **The objects it changes**, `SELECT … FOR UPDATE` (`repository.lock`). Several objects (a
   batch): all of them first, in ascending id, before any step below.
2. **Effect rows**: other rows whose values the change depends on, each of its own scope and in
   a fixed order — a recommender's quota per field (conditional UPDATE, `used < limit`), the
   round while a plaque number is drawn, an objector's address while its objections are counted
   (an advisory lock of that address). A batch locks every effect row it may touch in ascending
   id before the first effect.
3. **New rows** of the object and its children (INSERT: no waiting, except on a unique key that
   another transaction is inserting at the same moment).
4. **The history append** (`audit.service.record`): reads the head of the object's own stream
   and inserts the next row. Step 1 already makes the writers of one stream one at a time; an
   append that finds its place taken (objects without a row to lock, e.g. security events)
   waits for that writer's commit, reads the head again and retries.
5. **The outbox** (`events.emit`): INSERT only.

Nothing every write must pass through: no advisory lock for the whole installation, no counter
row shared by all writers, no table lock. A count that many writers change lives in a row of its
own scope (a quota per recommender and field, a rate-limit bucket per caller). The history is one
hash chain per object, and its checkpoints (`audit.checkpoints`) lock only against other
checkpoints. Taking a lock of an earlier step after a later one (e.g. locking another object
after appending history) inverts this order and can deadlock against a writer who follows it.

SQLite takes the database's write lock at BEGIN (`BEGIN IMMEDIATE`, core/db.py): its writers
are one at a time and this order costs nothing there.
"""
