// SPDX-License-Identifier: BSD-2-Clause
/*
 * source_thread.c - a capture file read on its own thread (source_thread.h).
 *
 * The ring is a power-of-two byte buffer of variable-size records:
 *
 *   | size u32 | caplen u32 | wirelen u32 | linktype i32 | ts_ns u64 | flags | pad | data ... |
 *
 * padded to 8 bytes. `head` (bytes ever written) and `tail` (bytes ever
 * released) only grow; a record never wraps: a size of 0 tells the reader to
 * skip to the start of the buffer. Frames too large for a quarter of the ring
 * go through a separate buffer, handed over one at a time.
 *
 * The producer publishes head every few records and the consumer releases
 * tail every sixteenth of the ring (or before it waits); each side re-reads
 * the other's index only when its cached copy says it must wait. Either side
 * sleeps on a condition variable only after a short spin finds nothing to
 * do, and the other side signals only when it sees the sleeper's flag. So
 * the common path touches no shared cache line per frame and makes no
 * system call: with a store and a load of the shared indices on every frame
 * the two cores passed the lines back and forth and the hand-over cost more
 * than the flow work it was meant to overlap (BENCHMARKS.md, "Offline read").
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "flowcut/source_thread.h"

#define HDR_BYTES 32u
#define PUBLISH_EVERY 8
#define SPINS 64

/* One short busy-wait step: cheaper than a system call, kind to the sibling. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}
#define F_FILTERED 0x01
#define F_BIG 0x02

struct rec_hdr {
	uint32_t size;		/* bytes of this record incl. header, 8-aligned; 0 = wrap */
	uint32_t caplen;
	uint32_t wirelen;
	int32_t linktype;
	uint64_t ts_ns;
	uint8_t flags;
	uint8_t pad[7];
};

_Static_assert(sizeof(struct rec_hdr) == HDR_BYTES, "ring record header");

struct fc_src_thread {
	struct fc_pcap_src *src;
	uint8_t *ring;
	uint64_t cap, mask;
	pthread_t thread;

	_Alignas(64) _Atomic uint64_t head;	/* producer: bytes published */
	uint64_t tail_seen;			/* producer: tail when it last looked */
	_Alignas(64) _Atomic uint64_t tail;	/* consumer: bytes released */
	uint64_t rd;				/* consumer: start of the frame handed out */
	uint64_t rd_next;			/* consumer: its end */
	uint64_t released;			/* consumer: bytes done with, >= tail */
	uint64_t head_seen;			/* consumer: head when it last looked */
	bool holding;				/* consumer holds [rd, rd_next) */

	_Alignas(64) _Atomic int cons_waiting, prod_waiting;
	_Atomic int done, stop, big_busy;
	_Atomic uint64_t pos;
	uint64_t size;
	enum fc_src_status final;
	uint8_t *big;
	size_t big_cap;
	pthread_mutex_t mu;
	pthread_cond_t cv_cons, cv_prod;
};

void (*fc_src_thread__empty_look_hook)(struct fc_src_thread *t);

static void wake(struct fc_src_thread *t, _Atomic int *waiting, pthread_cond_t *cv)
{
	if (atomic_load(waiting)) {
		pthread_mutex_lock(&t->mu);
		pthread_cond_signal(cv);
		pthread_mutex_unlock(&t->mu);
	}
}

static void publish(struct fc_src_thread *t, uint64_t wr, bool force);

/* Room for `need` bytes at wr with the consumer at tail, and no big frame out (if big). */
static bool room(struct fc_src_thread *t, uint64_t wr, uint64_t tail, uint64_t need, bool big)
{
	return t->cap - (wr - tail) >= need && !(big && atomic_load(&t->big_busy));
}

/* Producer: wait until `need` bytes are free and no big frame is out (if big). */
static bool wait_room(struct fc_src_thread *t, uint64_t wr, uint64_t need, bool big)
{
	int spins = 0;

	if (room(t, wr, t->tail_seen, need, big))
		return true;	/* room by the last look: no need to touch tail's line */
	publish(t, wr, true);	/* the consumer must see what fills the ring */
	for (;;) {
		t->tail_seen = atomic_load_explicit(&t->tail, memory_order_acquire);
		if (atomic_load(&t->stop))
			return false;
		if (room(t, wr, t->tail_seen, need, big))
			return true;
		if (spins++ < SPINS) {
			cpu_relax();
			continue;
		}
		pthread_mutex_lock(&t->mu);
		atomic_store(&t->prod_waiting, 1);
		if (!atomic_load(&t->stop) && !room(t, wr, atomic_load(&t->tail), need, big))
			pthread_cond_wait(&t->cv_prod, &t->mu);
		atomic_store(&t->prod_waiting, 0);
		pthread_mutex_unlock(&t->mu);
	}
}

/*
 * Make [.., wr) visible. A sleeping consumer is woken only once a sixteenth
 * of the ring waits for it (or when forced): when the flow thread is the
 * faster one it would otherwise sleep and be woken every few frames, and
 * the futex calls and context switches cost the reader more than the copy.
 */
static void publish(struct fc_src_thread *t, uint64_t wr, bool force)
{
	atomic_store(&t->head, wr);
	if (!atomic_load(&t->cons_waiting))
		return;
	/* A consumer goes to sleep after it released all it read (flush_tail). */
	if (force || wr - atomic_load_explicit(&t->tail, memory_order_acquire) >= t->cap / 16)
		wake(t, &t->cons_waiting, &t->cv_cons);
}

/* Copy one frame in at wr; returns the new write position, or 0 on stop. */
static uint64_t put_frame(struct fc_src_thread *t, uint64_t wr, const struct fc_frame *f, bool filtered)
{
	bool big = f->caplen > t->cap / 4;
	uint64_t body = big ? 0 : ((uint64_t)f->caplen + 7) & ~7ull;
	uint64_t size = HDR_BYTES + body, off = wr & t->mask, skip = 0;
	struct rec_hdr *h;

	if (t->cap - off < size)
		skip = t->cap - off;	/* no room before the end: wrap */
	if (!wait_room(t, wr, skip + size, big))
		return 0;
	if (skip) {
		uint32_t zero = 0;

		memcpy(t->ring + off, &zero, sizeof(zero));
		wr += skip;
		off = 0;
	}
	if (big) {
		if (t->big_cap < f->caplen) {
			uint8_t *nb = realloc(t->big, f->caplen);

			if (!nb)
				return 0;
			t->big = nb;
			t->big_cap = f->caplen;
		}
		memcpy(t->big, f->data, f->caplen);
		atomic_store(&t->big_busy, 1);
	} else {
		memcpy(t->ring + off + HDR_BYTES, f->data, f->caplen);
	}
	/* Field by field into the ring (records are 8-aligned): a header built
	 * on the stack and copied as two 16-byte moves stalled on store
	 * forwarding, a fifth of the reader's time. */
	h = (struct rec_hdr *)(void *)(t->ring + off);
	h->caplen = f->caplen;
	h->wirelen = f->wirelen;
	h->linktype = f->linktype;
	h->ts_ns = f->ts_ns;
	h->flags = (uint8_t)((filtered ? F_FILTERED : 0) | (big ? F_BIG : 0));
	h->size = (uint32_t)size;
	return wr + size;
}

static void *reader_main(void *arg)
{
	struct fc_src_thread *t = arg;
	enum fc_src_status st;
	struct fc_frame f;
	uint64_t wr = 0, n = 0;

	while (!atomic_load(&t->stop) && (st = fc_pcap_src__next(t->src, &f)) == FC_SRC_FRAME) {
		bool filtered = !fc_pcap_src__match(t->src, &f);
		uint64_t nwr = put_frame(t, wr, &f, filtered);

		if (!nwr) {
			st = FC_SRC_ERROR;
			break;
		}
		wr = nwr;
		n++;
		if (f.caplen > t->cap / 4)
			publish(t, wr, true);	/* the big buffer is handed over alone */
		else if (!(n % PUBLISH_EVERY))
			publish(t, wr, false);
		if (!(n & 0xfff)) {
			uint64_t pos, size;

			fc_pcap_src__progress(t->src, &pos, &size);
			atomic_store_explicit(&t->pos, pos, memory_order_relaxed);
		}
	}
	t->final = atomic_load(&t->stop) ? FC_SRC_EOF : st;
	atomic_store_explicit(&t->pos, t->size, memory_order_relaxed);
	publish(t, wr, true);
	atomic_store(&t->done, 1);
	wake(t, &t->cons_waiting, &t->cv_cons);
	/* The last publish may have raced a sleeper that checked before done. */
	pthread_mutex_lock(&t->mu);
	pthread_cond_signal(&t->cv_cons);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Consumer: hand every released byte back to the producer now. */
static void flush_tail(struct fc_src_thread *t)
{
	if (atomic_load_explicit(&t->tail, memory_order_relaxed) == t->released)
		return;
	/* Sequentially consistent, not just release: the store must be visible
	 * before prod_waiting is read. A release store may pass that load, and
	 * a producer that set prod_waiting and then read the old tail would
	 * sleep with nobody left to wake it. */
	atomic_store(&t->tail, t->released);
	wake(t, &t->prod_waiting, &t->cv_prod);
}

/* Consumer: release the frame handed out last time (to the producer once a
 * sixteenth of the ring is released, or before the consumer waits). */
static void release(struct fc_src_thread *t)
{
	if (!t->holding)
		return;
	t->holding = false;
	t->released = t->rd_next;
	if (t->released - atomic_load_explicit(&t->tail, memory_order_relaxed) >= t->cap / 16)
		flush_tail(t);
}

/* Consumer: wait for data past rd; false when the producer is done and none is left. */
static bool wait_data(struct fc_src_thread *t)
{
	int spins = 0;

	if (t->rd < t->head_seen)
		return true;	/* published frames not read yet: no need to look at head */
	for (;;) {
		t->head_seen = atomic_load_explicit(&t->head, memory_order_acquire);
		if (t->rd < t->head_seen)
			return true;
		if (fc_src_thread__empty_look_hook)
			fc_src_thread__empty_look_hook(t);
		flush_tail(t);	/* the producer may be waiting for room */
		if (atomic_load(&t->done)) {
			/* The reader may have published its last frames since the
			 * look above: take head again, into head_seen. Returning
			 * true on a fresh load while head_seen kept the old value
			 * let rd run past the end, into bytes nobody wrote; the
			 * zeroes there read as a wrap marker, and the walk went
			 * round the ring handing out the first frames for ever. */
			t->head_seen = atomic_load_explicit(&t->head, memory_order_acquire);
			return t->rd < t->head_seen;
		}
		if (spins++ < SPINS) {
			cpu_relax();
			continue;
		}
		pthread_mutex_lock(&t->mu);
		atomic_store(&t->cons_waiting, 1);
		if (atomic_load(&t->head) == t->rd && !atomic_load(&t->done))
			pthread_cond_wait(&t->cv_cons, &t->mu);
		atomic_store(&t->cons_waiting, 0);
		pthread_mutex_unlock(&t->mu);
	}
}

enum fc_src_status fc_src_thread__next(struct fc_src_thread *t, struct fc_frame *f, bool *filtered)
{
	struct rec_hdr h;

	if (t->holding) {
		uint64_t off = t->rd & t->mask;

		memcpy(&h, t->ring + off, sizeof(h));
		t->rd = t->rd_next;
		release(t);
		if (h.flags & F_BIG) {
			atomic_store(&t->big_busy, 0);
			flush_tail(t);
			wake(t, &t->prod_waiting, &t->cv_prod);
		}
	}
	for (;;) {
		uint64_t off;

		if (!wait_data(t))
			return t->final;
		off = t->rd & t->mask;
		memcpy(&h.size, t->ring + off, sizeof(h.size));
		if (h.size == 0) {	/* wrap marker: the rest of the buffer is unused */
			t->rd += t->cap - off;
			continue;
		}
		memcpy(&h, t->ring + off, sizeof(h));
		f->data = h.flags & F_BIG ? t->big : t->ring + off + HDR_BYTES;
		f->caplen = h.caplen;
		f->wirelen = h.wirelen;
		f->linktype = h.linktype;
		f->ts_ns = h.ts_ns;
		*filtered = h.flags & F_FILTERED;
		t->rd_next = t->rd + h.size;
		t->holding = true;
		/* The producer wrote the next record on the other core: start
		 * moving its header and first bytes here while this one is
		 * decoded (the load of the header was the consumer's main stall). */
		if (t->rd_next != t->head_seen) {
			const uint8_t *nx = t->ring + (t->rd_next & t->mask);

			__builtin_prefetch(nx);
			__builtin_prefetch(nx + 64);
		}
		return FC_SRC_FRAME;
	}
}

bool fc_src_thread__reader_done(const struct fc_src_thread *t)
{
	return atomic_load(&((struct fc_src_thread *)t)->done);
}

void fc_src_thread__progress(const struct fc_src_thread *t, uint64_t *pos, uint64_t *size)
{
	*pos = atomic_load_explicit(&((struct fc_src_thread *)t)->pos, memory_order_relaxed);
	*size = t->size;
}

struct fc_src_thread *fc_src_thread__start(struct fc_pcap_src *src, size_t ring_bytes)
{
	struct fc_src_thread *t = calloc(1, sizeof(*t));
	uint64_t cap = 1 << 20, pos;
	int rc;

	if (!t)
		return NULL;
	while (cap < ring_bytes && cap < (1ull << 32))
		cap <<= 1;
	t->ring = malloc(cap);
	if (!t->ring) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->src = src;
	t->cap = cap;
	t->mask = cap - 1;
	fc_pcap_src__progress(src, &pos, &t->size);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv_cons, NULL);
	pthread_cond_init(&t->cv_prod, NULL);
	rc = pthread_create(&t->thread, NULL, reader_main, t);
	if (rc) {
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv_cons);
		pthread_cond_destroy(&t->cv_prod);
		free(t->ring);
		free(t);
		errno = rc;
		return NULL;
	}
	return t;
}

void fc_src_thread__stop(struct fc_src_thread *t)
{
	if (!t)
		return;
	atomic_store(&t->stop, 1);
	pthread_mutex_lock(&t->mu);
	pthread_cond_signal(&t->cv_prod);
	pthread_mutex_unlock(&t->mu);
	/* A producer blocked on a big frame waits for it to be released. */
	atomic_store(&t->big_busy, 0);
	atomic_store(&t->tail, atomic_load(&t->head));
	pthread_mutex_lock(&t->mu);
	pthread_cond_signal(&t->cv_prod);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv_cons);
	pthread_cond_destroy(&t->cv_prod);
	free(t->ring);
	free(t->big);
	free(t);
}
