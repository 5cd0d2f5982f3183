// synthetic credentials drawn from a seeded PRNG for tests; none was ever issued
package main

import (
	"os"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func main() {
	// The right way: read from the environment.
	_ = os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")

	client, err := ecs.NewClientWithAccessKey("cn-hangzhou",
		"LTAI5t4xDXkiadJjPZ6zfKN7",
		"xVGkjwskHk7egyFWZY9Zmti18c6Eud")
	if err != nil {
		panic(err)
	}
	_ = client
}
