package provision

import (
	"context"
	"fmt"
	"strings"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"
)

// Queue attributes for queues setup creates (CreateQueue reference):
// no delay, 64 KB messages, 7 days' retention so dead letters and alerts
// survive a week-long absence, 30 s visibility, no long polling by default.
const (
	queueMaxMessageSize   = 65536
	queueRetentionSeconds = 7 * 24 * 3600
	queueVisibilitySecond = 30
)

// The SDK has no context: calls are bounded by the client's timeout, and
// a cancelled run stops before the next call.

func (p *Provisioner) planQueue(name, purpose string) func(context.Context, *Plan) error {
	return func(ctx context.Context, plan *Plan) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := "smq queue " + name
		_, err := ali_mns.NewMNSQueueManager(p.mns).GetQueueAttributes(name)
		switch {
		case ali_mns.ERR_MNS_QUEUE_NOT_EXIST.IsEqual(err):
			plan.add(res, ActionCreate, "missing: "+purpose, p.createQueue(name))
		case err != nil:
			return p.wrap("get attributes of queue "+name, err)
		default:
			plan.add(res, ActionOK, "exists", nil)
		}
		return nil
	}
}

func (p *Provisioner) createQueue(name string) func(context.Context) error {
	return func(context.Context) error {
		err := ali_mns.NewMNSQueueManager(p.mns).CreateQueue(name, 0, queueMaxMessageSize, queueRetentionSeconds, queueVisibilitySecond, 0, 2)
		if ali_mns.ERR_MNS_QUEUE_ALREADY_EXIST_AND_HAVE_SAME_ATTR.IsEqual(err) || ali_mns.ERR_MNS_QUEUE_ALREADY_EXIST.IsEqual(err) {
			return nil // created meanwhile by a concurrent run
		}
		return p.wrap("create queue "+name, err)
	}
}

func (p *Provisioner) planTopic(ctx context.Context, plan *Plan) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := p.cfg.Topic
	res := "smq topic " + t
	_, err := ali_mns.NewMNSTopicManager(p.mns).GetTopicAttributes(t)
	switch {
	case ali_mns.ERR_MNS_TOPIC_NOT_EXIST.IsEqual(err):
		plan.add(res, ActionCreate, "missing: respond publishes alerts to it", func(context.Context) error {
			err := ali_mns.NewMNSTopicManager(p.mns).CreateSimpleTopic(t)
			if ali_mns.ERR_MNS_TOPIC_ALREADY_EXIST_AND_HAVE_SAME_ATTR.IsEqual(err) || ali_mns.ERR_MNS_TOPIC_ALREADY_EXIST.IsEqual(err) {
				return nil
			}
			return p.wrap("create topic "+t, err)
		})
	case err != nil:
		return p.wrap("get attributes of topic "+t, err)
	default:
		plan.add(res, ActionOK, "exists", nil)
	}
	return nil
}

// findSubscription lists the topic's subscriptions whose name starts with
// name (the API filters by prefix only) and picks the exact one.
func (p *Provisioner) findSubscription(topic ali_mns.AliMNSTopic, name string) (*ali_mns.SubscriptionAttribute, error) {
	marker := ""
	for {
		page, err := topic.ListSubscriptionDetailByTopic(marker, 1000, name)
		if err != nil {
			return nil, err
		}
		for i := range page.Attrs {
			if page.Attrs[i].SubscriptionName == name {
				return &page.Attrs[i], nil
			}
		}
		if page.NextMarker == "" || page.NextMarker == marker {
			return nil, nil
		}
		marker = page.NextMarker
	}
}

// planSubscription subscribes the queue under its own name. SMQ cannot
// change a subscription's endpoint, filter tag or format in place (only
// NotifyStrategy), so a changed one is unsubscribed and subscribed again.
func (p *Provisioner) planSubscription(ctx context.Context, plan *Plan, s Subscription) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	topic := ali_mns.NewMNSTopic(p.cfg.Topic, p.mns)
	want := ali_mns.MessageSubsribeRequest{Endpoint: topic.GenerateQueueEndpoint(s.Queue), FilterTag: s.Tag,
		NotifyStrategy: ali_mns.BACKOFF_RETRY, NotifyContentFormat: ali_mns.SIMPLIFIED}
	res := fmt.Sprintf("smq subscription %s/%s", p.cfg.Topic, s.Queue)
	tags := "all messages"
	if s.Tag != "" {
		tags = "messages tagged " + s.Tag
	}
	subscribe := func(context.Context) error {
		err := topic.Subscribe(s.Queue, want)
		if ali_mns.ERR_MNS_SUBSCRIPTION_ALREADY_EXIST_AND_HAVE_SAME_ATTR.IsEqual(err) {
			return nil
		}
		return p.wrap("subscribe queue "+s.Queue, err)
	}
	if hasStep(plan, "smq topic "+p.cfg.Topic, ActionCreate) {
		// A topic about to be created has no subscriptions to list.
		plan.add(res, ActionCreate, "queue "+s.Queue+" receives "+tags, subscribe)
		return nil
	}
	cur, err := p.findSubscription(topic, s.Queue)
	if err != nil {
		return p.wrap("list subscriptions of topic "+p.cfg.Topic, err)
	}
	switch {
	case cur == nil:
		plan.add(res, ActionCreate, "queue "+s.Queue+" receives "+tags, subscribe)
	case cur.Endpoint == want.Endpoint && cur.FilterTag == want.FilterTag && cur.NotifyContentFormat == want.NotifyContentFormat:
		plan.add(res, ActionOK, "queue "+s.Queue+" receives "+tags, nil)
	default:
		var diff []string
		if cur.Endpoint != want.Endpoint {
			diff = append(diff, fmt.Sprintf("endpoint %s -> %s", cur.Endpoint, want.Endpoint))
		}
		if cur.FilterTag != want.FilterTag {
			diff = append(diff, fmt.Sprintf("tag %q -> %q", cur.FilterTag, want.FilterTag))
		}
		if cur.NotifyContentFormat != want.NotifyContentFormat {
			diff = append(diff, fmt.Sprintf("format %s -> %s", cur.NotifyContentFormat, want.NotifyContentFormat))
		}
		reason := strings.Join(diff, ", ") + ": re-subscribe"
		plan.add(res, ActionUpdate, reason, func(ctx context.Context) error {
			if err := topic.Unsubscribe(s.Queue); err != nil {
				return p.wrap("unsubscribe queue "+s.Queue, err)
			}
			return subscribe(ctx)
		})
	}
	return nil
}

func hasStep(plan *Plan, resource string, a Action) bool {
	for _, s := range plan.Steps {
		if s.Resource == resource && s.Action == a {
			return true
		}
	}
	return false
}
