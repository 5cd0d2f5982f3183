package smq

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
)

// Wire format of the SMQ (MNS) HTTP API, version 2015-06-06.
//
// Element names follow the SMQ API reference pages (CreateQueue,
// SendMessage, ReceiveMessage, Subscribe, ...) and the request/response
// structs of github.com/aliyun/aliyun-mns-go-sdk v1.0.11 (message.go), which
// is the client these servers are tested with. Responses carry the
// documented namespace; the SDK matches elements by local name only.

const (
	apiVersion = "2015-06-06"
	xmlNS      = "http://mns.aliyuncs.com/doc/v1/"
	xmlHeader  = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
)

// apiError is an SMQ error response: 4xx/5xx with an <Error> body. Codes and
// statuses are from the SMQ "Error codes" reference; the SDK maps Code to its
// ERR_MNS_* templates in client.go initMNSErrors.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errQueueNotExist() *apiError {
	return errf(http.StatusNotFound, "QueueNotExist", "The queue name you provided is not exist.")
}

func errTopicNotExist() *apiError {
	return errf(http.StatusNotFound, "TopicNotExist", "The topic you provided does not exist.")
}

func errSubscriptionNotExist() *apiError {
	return errf(http.StatusNotFound, "SubscriptionNotExist", "The subscription you provided does not exist.")
}

func errMessageNotExist() *apiError {
	return errf(http.StatusNotFound, "MessageNotExist", "Message not exist.")
}

func errRange(elem string, lo, hi int) *apiError {
	return errf(http.StatusBadRequest, "InvalidArgument", "The value of %s should between %d and %d.", elem, lo, hi)
}

type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	NS        string   `xml:"xmlns,attr"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

// encodeXML renders v with the XML declaration every SMQ response starts with.
func encodeXML(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	if err := xml.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b.Bytes(), nil
}

// Requests.

// Pointers tell "element absent" from "zero": the SDK omits some elements
// (omitempty) and always sends others, and absent ones keep their defaults.
type queueAttrsXML struct {
	DelaySeconds           *int  `xml:"DelaySeconds"`
	MaximumMessageSize     *int  `xml:"MaximumMessageSize"`
	MessageRetentionPeriod *int  `xml:"MessageRetentionPeriod"`
	VisibilityTimeout      *int  `xml:"VisibilityTimeout"`
	PollingWaitSeconds     *int  `xml:"PollingWaitSeconds"`
	LoggingEnabled         *bool `xml:"LoggingEnabled"`
}

type topicAttrsXML struct {
	MaximumMessageSize *int  `xml:"MaximumMessageSize"`
	LoggingEnabled     *bool `xml:"LoggingEnabled"`
}

type sendMessageXML struct {
	MessageBody  *string `xml:"MessageBody"`
	DelaySeconds *int    `xml:"DelaySeconds"`
	Priority     *int    `xml:"Priority"`
}

type batchSendXML struct {
	Messages []sendMessageXML `xml:"Message"`
}

type publishXML struct {
	MessageBody *string `xml:"MessageBody"`
	MessageTag  string  `xml:"MessageTag"`
}

type receiptHandlesXML struct {
	Handles []string `xml:"ReceiptHandle"`
}

type subscribeXML struct {
	Endpoint            *string `xml:"Endpoint"`
	FilterTag           *string `xml:"FilterTag"`
	NotifyStrategy      *string `xml:"NotifyStrategy"`
	NotifyContentFormat *string `xml:"NotifyContentFormat"`
}

// Responses.

type sentXML struct {
	XMLName        xml.Name `xml:"Message"`
	NS             string   `xml:"xmlns,attr,omitempty"`
	ErrorCode      string   `xml:"ErrorCode,omitempty"`
	ErrorMessage   string   `xml:"ErrorMessage,omitempty"`
	MessageID      string   `xml:"MessageId,omitempty"`
	MessageBodyMD5 string   `xml:"MessageBodyMD5,omitempty"`
	ReceiptHandle  string   `xml:"ReceiptHandle,omitempty"`
}

type sentBatchXML struct {
	XMLName  xml.Name  `xml:"Messages"`
	NS       string    `xml:"xmlns,attr"`
	Messages []sentXML `xml:"Message"`
}

// receivedXML is one message as ReceiveMessage/PeekMessage return it.
// PeekMessage omits ReceiptHandle and NextVisibleTime (PeekMessage reference).
type receivedXML struct {
	XMLName          xml.Name `xml:"Message"`
	NS               string   `xml:"xmlns,attr,omitempty"`
	MessageID        string   `xml:"MessageId"`
	ReceiptHandle    string   `xml:"ReceiptHandle,omitempty"`
	MessageBodyMD5   string   `xml:"MessageBodyMD5"`
	MessageBody      string   `xml:"MessageBody"`
	EnqueueTime      int64    `xml:"EnqueueTime"`
	NextVisibleTime  int64    `xml:"NextVisibleTime,omitempty"`
	FirstDequeueTime int64    `xml:"FirstDequeueTime"`
	DequeueCount     int      `xml:"DequeueCount"`
	Priority         int      `xml:"Priority"`
}

type receivedBatchXML struct {
	XMLName  xml.Name      `xml:"Messages"`
	NS       string        `xml:"xmlns,attr"`
	Messages []receivedXML `xml:"Message"`
}

type deleteErrXML struct {
	ErrorCode     string `xml:"ErrorCode"`
	ErrorMessage  string `xml:"ErrorMessage"`
	ReceiptHandle string `xml:"ReceiptHandle"`
}

type deleteErrsXML struct {
	XMLName xml.Name       `xml:"Errors"`
	NS      string         `xml:"xmlns,attr"`
	Errors  []deleteErrXML `xml:"Error"`
}

type changeVisibilityXML struct {
	XMLName         xml.Name `xml:"ChangeVisibility"`
	NS              string   `xml:"xmlns,attr"`
	ReceiptHandle   string   `xml:"ReceiptHandle"`
	NextVisibleTime int64    `xml:"NextVisibleTime"`
}

type queueXML struct {
	XMLName                xml.Name `xml:"Queue"`
	NS                     string   `xml:"xmlns,attr,omitempty"`
	QueueURL               string   `xml:"QueueURL,omitempty"`
	QueueName              string   `xml:"QueueName,omitempty"`
	CreateTime             int64    `xml:"CreateTime,omitempty"`
	LastModifyTime         int64    `xml:"LastModifyTime,omitempty"`
	DelaySeconds           *int     `xml:"DelaySeconds,omitempty"`
	MaximumMessageSize     int      `xml:"MaximumMessageSize,omitempty"`
	MessageRetentionPeriod int      `xml:"MessageRetentionPeriod,omitempty"`
	VisibilityTimeout      int      `xml:"VisibilityTimeout,omitempty"`
	PollingWaitSeconds     *int     `xml:"PollingWaitSeconds,omitempty"`
	ActiveMessages         *int     `xml:"ActiveMessages,omitempty"`
	InactiveMessages       *int     `xml:"InactiveMessages,omitempty"`
	DelayMessages          *int     `xml:"DelayMessages,omitempty"`
	LoggingEnabled         *bool    `xml:"LoggingEnabled,omitempty"`
}

type queuesXML struct {
	XMLName    xml.Name   `xml:"Queues"`
	NS         string     `xml:"xmlns,attr"`
	Queues     []queueXML `xml:"Queue"`
	NextMarker string     `xml:"NextMarker,omitempty"`
}

type topicXML struct {
	XMLName                xml.Name `xml:"Topic"`
	NS                     string   `xml:"xmlns,attr,omitempty"`
	TopicURL               string   `xml:"TopicURL,omitempty"`
	TopicName              string   `xml:"TopicName,omitempty"`
	CreateTime             int64    `xml:"CreateTime,omitempty"`
	LastModifyTime         int64    `xml:"LastModifyTime,omitempty"`
	MaximumMessageSize     int      `xml:"MaximumMessageSize,omitempty"`
	MessageRetentionPeriod int      `xml:"MessageRetentionPeriod,omitempty"`
	MessageCount           *int     `xml:"MessageCount,omitempty"`
	LoggingEnabled         *bool    `xml:"LoggingEnabled,omitempty"`
}

type topicsXML struct {
	XMLName    xml.Name   `xml:"Topics"`
	NS         string     `xml:"xmlns,attr"`
	Topics     []topicXML `xml:"Topic"`
	NextMarker string     `xml:"NextMarker,omitempty"`
}

type subscriptionXML struct {
	XMLName             xml.Name `xml:"Subscription"`
	NS                  string   `xml:"xmlns,attr,omitempty"`
	SubscriptionURL     string   `xml:"SubscriptionURL,omitempty"`
	SubscriptionName    string   `xml:"SubscriptionName,omitempty"`
	Subscriber          string   `xml:"Subscriber,omitempty"`
	TopicOwner          string   `xml:"TopicOwner,omitempty"`
	TopicName           string   `xml:"TopicName,omitempty"`
	Endpoint            string   `xml:"Endpoint,omitempty"`
	NotifyStrategy      string   `xml:"NotifyStrategy,omitempty"`
	NotifyContentFormat string   `xml:"NotifyContentFormat,omitempty"`
	FilterTag           string   `xml:"FilterTag,omitempty"`
	CreateTime          int64    `xml:"CreateTime,omitempty"`
	LastModifyTime      int64    `xml:"LastModifyTime,omitempty"`
}

type subscriptionsXML struct {
	XMLName       xml.Name          `xml:"Subscriptions"`
	NS            string            `xml:"xmlns,attr"`
	Subscriptions []subscriptionXML `xml:"Subscription"`
	NextMarker    string            `xml:"NextMarker,omitempty"`
}

// notificationXML is the XML NotifyContentFormat a topic pushes to a queue
// endpoint (SMQ reference "NotifyContentFormat"). The documented sample has
// typos (xlmns, a </MessagePublishTime> closing tag); this is the well-formed
// version of the same elements.
type notificationXML struct {
	XMLName          xml.Name `xml:"Notification"`
	NS               string   `xml:"xmlns,attr"`
	TopicOwner       string   `xml:"TopicOwner"`
	TopicName        string   `xml:"TopicName"`
	Subscriber       string   `xml:"Subscriber"`
	SubscriptionName string   `xml:"SubscriptionName"`
	MessageID        string   `xml:"MessageId"`
	Message          string   `xml:"Message"`
	MessageMD5       string   `xml:"MessageMD5"`
	MessageTag       string   `xml:"MessageTag,omitempty"`
	PublishTime      int64    `xml:"PublishTime"`
}

// notificationJSON is the JSON NotifyContentFormat. PublishTime is a string
// of epoch milliseconds, as in the documented sample.
type notificationJSON struct {
	TopicOwner       string `json:"TopicOwner"`
	TopicName        string `json:"TopicName"`
	Subscriber       string `json:"Subscriber"`
	SubscriptionName string `json:"SubscriptionName"`
	MessageID        string `json:"MessageId"`
	Message          string `json:"Message"`
	MessageMD5       string `json:"MessageMD5"`
	MessageTag       string `json:"MessageTag,omitempty"`
	PublishTime      string `json:"PublishTime"`
}
