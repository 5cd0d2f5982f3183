package main

// synthetic test key: random characters, never issued by Alibaba Cloud

import "github.com/aliyun/alibaba-cloud-sdk-go/sdk"

func main() {
	client, err := sdk.NewClientWithAccessKey(
		"cn-shanghai",
		"LTAIos7iYUlRmp8rY9NIAaBL",
		"nevPJvTFoUD6tr7YOp6udn0eYsF20z",
	)
	_, _ = client, err
}
