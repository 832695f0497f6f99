package opensearch

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress draws one self-overwriting status line (hits, total when known,
// rate) on a terminal. The caller decides whether there is one; all
// methods are safe on a nil *Progress, which draws nothing.
type Progress struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	n     atomic.Int64
	total atomic.Int64

	once sync.Once
	stop chan struct{}
	done chan struct{}
}

// NewProgress returns a Progress writing to w (a terminal); now may be nil.
func NewProgress(w io.Writer, now func() time.Time) *Progress {
	if now == nil {
		now = time.Now
	}
	return &Progress{w: w, now: now, start: now()}
}

// Add counts n more hits written.
func (p *Progress) Add(n int) {
	if p != nil {
		p.n.Add(int64(n))
	}
}

// AddTotal adds to the expected total (each slice reports its own).
func (p *Progress) AddTotal(n int64) {
	if p != nil {
		p.total.Add(n)
	}
}

// Start redraws the line every interval until Stop.
func (p *Progress) Start(interval time.Duration) {
	if p == nil {
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				fmt.Fprintf(p.w, "\r%s\x1b[K", p.Line())
			}
		}
	}()
}

// Stop draws the final line and ends it.
func (p *Progress) Stop() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		if p.stop != nil {
			close(p.stop)
			<-p.done
		}
		fmt.Fprintf(p.w, "\r%s\x1b[K\n", p.Line())
	})
}

// Line renders "1,234 / 10,000 hits [###-------] 12%  2,345 hits/s".
func (p *Progress) Line() string {
	n, total := p.n.Load(), p.total.Load()
	el := p.now().Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(n) / el
	}
	var b strings.Builder
	b.WriteString(group(n))
	if total > 0 {
		frac := min(float64(n)/float64(total), 1)
		const width = 20
		fill := int(frac * width)
		fmt.Fprintf(&b, " / %s hits [%s%s] %3.0f%%", group(total), strings.Repeat("#", fill), strings.Repeat("-", width-fill), frac*100)
	} else {
		b.WriteString(" hits")
	}
	fmt.Fprintf(&b, "  %s hits/s", group(int64(rate)))
	return b.String()
}

// group writes n with thousands separators.
func group(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
