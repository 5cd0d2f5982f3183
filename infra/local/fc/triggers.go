package fc

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/akguard/akguard/infra/local/core"
)

// ossEvent mirrors the OSS trigger event (FC "OSS trigger" event format;
// fc-runtime-go-sdk events.OssEvent decodes it).
type ossEvent struct {
	Events []ossRecord `json:"events"`
}

type ossRecord struct {
	EventName         string  `json:"eventName"`
	EventSource       string  `json:"eventSource"`
	EventTime         string  `json:"eventTime"`
	EventVersion      string  `json:"eventVersion"`
	OSS               ossBody `json:"oss"`
	Region            string  `json:"region"`
	RequestParameters struct {
		SourceIPAddress string `json:"sourceIPAddress"`
	} `json:"requestParameters"`
	ResponseElements struct {
		RequestID string `json:"requestId"`
	} `json:"responseElements"`
	UserIdentity struct {
		PrincipalID string `json:"principalId"`
	} `json:"userIdentity"`
}

type ossBody struct {
	Bucket struct {
		Arn           string `json:"arn"`
		Name          string `json:"name"`
		OwnerIdentity string `json:"ownerIdentity"`
		VirtualBucket string `json:"virtualBucket"`
	} `json:"bucket"`
	Object struct {
		DeltaSize  int64  `json:"deltaSize"`
		ETag       string `json:"eTag"`
		Key        string `json:"key"`
		ObjectMeta struct {
			MimeType string `json:"mimeType"`
		} `json:"objectMeta"`
		Size int64 `json:"size"`
	} `json:"object"`
	OssSchemaVersion string `json:"ossSchemaVersion"`
	RuleID           string `json:"ruleId"`
}

// ObjectCreated fires the OSS triggers matching a stored object; its
// signature is core.Hooks.ObjectCreated's, so the assembly can set
// env.Hooks.ObjectCreated = srv.ObjectCreated. Each match is one async
// invocation.
func (s *Server) ObjectCreated(ctx context.Context, ev core.ObjectEvent) {
	s.fireOSS(ctx, ev)
}

// fireOSS enqueues one invocation per matching trigger and returns the
// request IDs.
func (s *Server) fireOSS(ctx context.Context, ev core.ObjectEvent) []string {
	var ids []string
	for _, name := range s.Functions() {
		f := s.fns[name]
		for _, t := range f.cfg.Triggers {
			if t.OSS == nil || !s.ossTriggerMatches(&t, ev) {
				continue
			}
			payload, err := json.Marshal(s.ossEventFor(f, &t, ev))
			if err != nil {
				s.log.Error("encode oss event", "err", err)
				continue
			}
			id := core.NewRequestID()
			if err := f.enqueue(ctx, id, payload, "oss"); err != nil {
				s.log.Error("oss trigger invoke", "function", name, "trigger", t.Name, "err", err)
				continue
			}
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *Server) ossTriggerMatches(t *Trigger, ev core.ObjectEvent) bool {
	if t.OSS.Bucket != ev.Bucket {
		return false
	}
	// sourceArn acs:oss:<region>:<uid>:<bucket>: region and account must
	// be this cloud's unless wildcarded.
	if parts := strings.Split(t.SourceArn, ":"); len(parts) == 5 {
		if parts[2] != "" && parts[2] != "*" && parts[2] != s.env.Region {
			return false
		}
		if parts[3] != "" && parts[3] != "*" && parts[3] != s.env.AccountID {
			return false
		}
	}
	if !strings.HasPrefix(ev.Key, t.OSS.Prefix) || !strings.HasSuffix(ev.Key, t.OSS.Suffix) {
		return false
	}
	name := "oss:" + ev.EventName
	for _, pat := range t.OSS.Events {
		if ok, err := path.Match(pat, name); err == nil && ok {
			return true
		}
	}
	return false
}

func (s *Server) ossEventFor(f *function, t *Trigger, ev core.ObjectEvent) ossEvent {
	when := ev.EventTime
	if when.IsZero() {
		when = s.now()
	}
	var r ossRecord
	r.EventName = ev.EventName
	r.EventSource = "acs:oss"
	r.EventTime = when.UTC().Format("2006-01-02T15:04:05.000Z")
	r.EventVersion = "1.0"
	r.Region = s.env.Region
	r.OSS.Bucket.Arn = fmt.Sprintf("acs:oss:%s:%s:%s", s.env.Region, s.env.AccountID, ev.Bucket)
	r.OSS.Bucket.Name = ev.Bucket
	r.OSS.Bucket.OwnerIdentity = s.env.AccountID
	r.OSS.Object.DeltaSize = ev.Size
	r.OSS.Object.ETag = strings.Trim(ev.ETag, `"`)
	r.OSS.Object.Key = ev.Key
	r.OSS.Object.ObjectMeta.MimeType = ev.MimeType
	r.OSS.Object.Size = ev.Size
	r.OSS.OssSchemaVersion = "1.0"
	// ruleId identifies the bucket notification rule FC created for the
	// trigger: a 40-hex-digit ID, stable per trigger.
	sum := sha1.Sum([]byte(s.env.AccountID + "/" + f.cfg.Name + "/" + t.Name))
	r.OSS.RuleID = hex.EncodeToString(sum[:])
	r.RequestParameters.SourceIPAddress = ev.SourceIP
	r.ResponseElements.RequestID = ev.RequestID
	r.UserIdentity.PrincipalID = ev.Principal.PrincipalID
	if r.UserIdentity.PrincipalID == "" {
		r.UserIdentity.PrincipalID = s.env.AccountID
	}
	return ossEvent{Events: []ossRecord{r}}
}

// timerEvent is the timer trigger event (events.TimerEvent).
type timerEvent struct {
	TriggerTime string `json:"triggerTime"`
	TriggerName string `json:"triggerName"`
	Payload     string `json:"payload"`
}

// FireTimer invokes a function asynchronously as its timer trigger would,
// regardless of enable and of the schedule; it returns the request ID.
func (s *Server) FireTimer(ctx context.Context, function, trigger string) (string, error) {
	f := s.fns[function]
	if f == nil {
		return "", fmt.Errorf("fire timer %s/%s: %w", function, trigger, ErrFunctionNotFound)
	}
	for _, t := range f.cfg.Triggers {
		if t.Name != trigger || t.Timer == nil {
			continue
		}
		payload, err := json.Marshal(timerEvent{
			TriggerTime: s.now().UTC().Format("2006-01-02T15:04:05Z"), TriggerName: t.Name, Payload: t.Timer.Payload,
		})
		if err != nil {
			return "", fmt.Errorf("encode timer event: %w", err)
		}
		id := core.NewRequestID()
		if err := f.enqueue(ctx, id, payload, "timer"); err != nil {
			return "", fmt.Errorf("fire timer %s/%s: %w", function, trigger, err)
		}
		return id, nil
	}
	return "", fmt.Errorf("fire timer %s/%s: no such timer trigger", function, trigger)
}

// startTimers schedules every enabled timer trigger.
func (s *Server) startTimers() {
	for _, name := range s.Functions() {
		f := s.fns[name]
		for _, t := range f.cfg.Triggers {
			if t.Timer == nil || !t.Timer.Enable {
				continue
			}
			sched, err := ParseSchedule(t.Timer.CronExpression)
			if err != nil {
				s.log.Error("timer trigger", "function", name, "trigger", t.Name, "err", err)
				continue
			}
			s.wg.Add(1)
			go func(fn, trig string) {
				defer s.wg.Done()
				last := s.now()
				for {
					next := sched.Next(last)
					if next.IsZero() {
						return
					}
					timer := time.NewTimer(next.Sub(s.now()))
					select {
					case <-s.ctx.Done():
						timer.Stop()
						return
					case <-timer.C:
					}
					last = next
					if _, err := s.FireTimer(s.ctx, fn, trig); err != nil {
						s.log.Error("timer trigger", "function", fn, "trigger", trig, "err", err)
					}
				}
			}(name, t.Name)
		}
	}
}
