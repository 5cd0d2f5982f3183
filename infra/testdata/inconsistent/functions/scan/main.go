package main

import "github.com/aliyun/fc-runtime-go-sdk/fc"

func main() { fc.Start(func() error { return nil }) }
