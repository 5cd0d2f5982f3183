package ossscan

import (
	"context"
	"io"
	"sync"
)

// firstPart is the size of the first ranged GET. The walker sniffs the
// start of the stream and, for a zip, switches to random access; a small
// first part and no read-ahead until it is consumed keeps that from
// downloading (workers × part size) bytes that are never used.
const firstPart = 256 << 10

// Prefetcher is an io.ReadCloser over an object that fetches it in
// fixed-size ranged GETs, Workers of them at once, and delivers the bytes
// in order. Memory is bounded by (Workers+1) × PartSize: a part's buffer is
// reused once the reader has consumed it.
type Prefetcher struct {
	obj      *Object
	part     int64
	workers  int
	ctx      context.Context
	cancel   context.CancelFunc
	started  bool
	queue    chan *part // parts in object order, at most workers ahead
	rampUp   chan struct{}
	free     chan []byte
	cur      *part
	pos      int
	wg       sync.WaitGroup
	err      error
	consumed int64
}

type part struct {
	off  int64
	buf  []byte
	err  error
	done chan struct{}
}

// NewPrefetcher reads obj with workers parallel GETs of partSize bytes.
// Nothing is fetched until the first Read. Close releases the goroutines.
func NewPrefetcher(ctx context.Context, obj *Object, partSize int64, workers int) *Prefetcher {
	if workers < 1 {
		workers = 1
	}
	if partSize < firstPart {
		partSize = firstPart
	}
	ctx, cancel := context.WithCancel(ctx)
	return &Prefetcher{obj: obj, part: partSize, workers: workers, ctx: ctx, cancel: cancel,
		queue: make(chan *part, workers), rampUp: make(chan struct{}), free: make(chan []byte, workers+1)}
}

func (p *Prefetcher) start() {
	p.started = true
	p.wg.Add(1)
	go p.produce()
}

// produce hands out parts in order. Buffers come from the free list once
// workers+1 exist, which is what bounds memory and read-ahead.
func (p *Prefetcher) produce() {
	defer p.wg.Done()
	defer close(p.queue)
	allocated := 0
	var fetches sync.WaitGroup
	defer fetches.Wait()
	for off, i := int64(0), 0; off < p.obj.Size; i++ {
		n := p.part
		if i == 0 {
			n = firstPart
		}
		n = min(n, p.obj.Size-off)
		if i == 1 {
			select {
			case <-p.rampUp:
			case <-p.ctx.Done():
				return
			}
		}
		var buf []byte
		if allocated <= p.workers {
			allocated++
		} else {
			select {
			case buf = <-p.free:
			case <-p.ctx.Done():
				return
			}
		}
		if int64(cap(buf)) < n {
			// The first buffer is sized for full parts too, so it is reusable.
			buf = make([]byte, max(n, min(p.part, p.obj.Size)))
		}
		pt := &part{off: off, buf: buf[:n], done: make(chan struct{})}
		select {
		case p.queue <- pt:
		case <-p.ctx.Done():
			return
		}
		fetches.Add(1)
		go func() {
			defer fetches.Done()
			defer close(pt.done)
			pt.err = p.obj.readRange(p.ctx, pt.buf, pt.off)
		}()
		off += n
	}
}

// Read implements io.Reader.
func (p *Prefetcher) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if !p.started {
		if p.obj.Size == 0 {
			p.err = io.EOF
			return 0, io.EOF
		}
		p.start()
	}
	for p.cur == nil || p.pos == len(p.cur.buf) {
		if p.cur != nil {
			if p.cur.off == 0 {
				close(p.rampUp)
			}
			select {
			case p.free <- p.cur.buf:
			default:
			}
			p.cur = nil
		}
		pt, ok := <-p.queue
		if !ok {
			if p.consumed < p.obj.Size {
				p.err = p.ctx.Err()
				if p.err == nil {
					p.err = io.ErrUnexpectedEOF
				}
			} else {
				p.err = io.EOF
			}
			return 0, p.err
		}
		select {
		case <-pt.done:
		case <-p.ctx.Done():
			p.err = p.ctx.Err()
			return 0, p.err
		}
		if pt.err != nil {
			p.err = pt.err
			return 0, p.err
		}
		p.cur, p.pos = pt, 0
	}
	n := copy(b, p.cur.buf[p.pos:])
	p.pos += n
	p.consumed += int64(n)
	return n, nil
}

// Close stops fetching and waits for in-flight requests to end.
func (p *Prefetcher) Close() error {
	p.cancel()
	if p.started {
		// Drain so the producer, blocked on a full queue, can exit.
		go func() {
			for range p.queue {
			}
		}()
		p.wg.Wait()
	}
	return nil
}
