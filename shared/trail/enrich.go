package trail

import (
	"context"
	"fmt"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"
)

// LastUsed is what ActionTrail's AccessKey audit APIs (GetAccessKeyLastUsed*,
// cloud-apis.md B2.4) know about a key beyond the audited window: where it
// was used last, per service, from which addresses, on which resources. The
// APIs' Detail fields (whole events, with request parameters) are left out.
type LastUsed struct {
	UsedAt    time.Time     `json:"usedAt,omitzero"`
	Service   string        `json:"service,omitempty"`
	UserName  string        `json:"userName,omitempty"`
	Products  []ProductUse  `json:"products,omitempty"`
	IPs       []IPUse       `json:"ips,omitempty"`
	Resources []ResourceUse `json:"resources,omitempty"`
}

// ProductUse is the last use of a key with one service.
type ProductUse struct {
	Service string    `json:"service"`
	UsedAt  time.Time `json:"usedAt,omitzero"`
}

// IPUse is the last use of a key from one address.
type IPUse struct {
	Service string    `json:"service"`
	IP      string    `json:"ip"`
	UsedAt  time.Time `json:"usedAt,omitzero"`
}

// ResourceUse is the last use of a key on one resource.
type ResourceUse struct {
	Service string    `json:"service"`
	Type    string    `json:"type,omitempty"`
	Name    string    `json:"name"`
	UsedAt  time.Time `json:"usedAt,omitzero"`
}

// Enrichment bounds: a leaked key may have touched many services, and each
// call spends the same low API quota as LookupEvents.
const (
	maxEnrichServices = 5
	enrichPageSize    = 20
)

func fromMillis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// LastUsed asks the first region's ActionTrail about accessKeyID. The APIs
// need the AccessKey audit feature; an error means "not available" to
// callers, who carry on without it.
func (r *Reader) LastUsed(ctx context.Context, accessKeyID string) (*LastUsed, error) {
	if len(r.Regions) == 0 {
		return nil, fmt.Errorf("last used %s: no region configured", accessKeyID)
	}
	reg := r.Regions[0]
	out := &LastUsed{}

	info := actiontrail.CreateGetAccessKeyLastUsedInfoRequest()
	info.RegionId, info.AccessKey = reg.Name, accessKeyID
	var ir *actiontrail.GetAccessKeyLastUsedInfoResponse
	if _, err := r.do(ctx, reg.Name, "GetAccessKeyLastUsedInfo", func() (err error) {
		ir, err = reg.Client.GetAccessKeyLastUsedInfo(info)
		return err
	}); err != nil {
		return nil, fmt.Errorf("get access key last used info: %w", err)
	}
	out.UsedAt, out.Service, out.UserName = fromMillis(ir.UsedTimestamp), ir.ServiceName, ir.UserName

	pr := actiontrail.CreateGetAccessKeyLastUsedProductsRequest()
	pr.RegionId, pr.AccessKey = reg.Name, accessKeyID
	var prs *actiontrail.GetAccessKeyLastUsedProductsResponse
	if _, err := r.do(ctx, reg.Name, "GetAccessKeyLastUsedProducts", func() (err error) {
		prs, err = reg.Client.GetAccessKeyLastUsedProducts(pr)
		return err
	}); err != nil {
		return nil, fmt.Errorf("get access key last used products: %w", err)
	}
	for i, p := range prs.Products {
		out.Products = append(out.Products, ProductUse{Service: p.ServiceName, UsedAt: fromMillis(p.UsedTimestamp)})
		if i >= maxEnrichServices {
			continue
		}
		ips := actiontrail.CreateGetAccessKeyLastUsedIpsRequest()
		ips.RegionId, ips.AccessKey, ips.ServiceName, ips.PageSize = reg.Name, accessKeyID, p.ServiceName, fmt.Sprint(enrichPageSize)
		var ipr *actiontrail.GetAccessKeyLastUsedIpsResponse
		if _, err := r.do(ctx, reg.Name, "GetAccessKeyLastUsedIps", func() (err error) {
			ipr, err = reg.Client.GetAccessKeyLastUsedIps(ips)
			return err
		}); err != nil {
			return nil, fmt.Errorf("get access key last used ips: %w", err)
		}
		for _, ip := range ipr.Ips {
			out.IPs = append(out.IPs, IPUse{Service: p.ServiceName, IP: ip.Ip, UsedAt: fromMillis(ip.UsedTimestamp)})
		}
		res := actiontrail.CreateGetAccessKeyLastUsedResourcesRequest()
		res.RegionId, res.AccessKey, res.ServiceName, res.PageSize = reg.Name, accessKeyID, p.ServiceName, fmt.Sprint(enrichPageSize)
		var rr *actiontrail.GetAccessKeyLastUsedResourcesResponse
		if _, err := r.do(ctx, reg.Name, "GetAccessKeyLastUsedResources", func() (err error) {
			rr, err = reg.Client.GetAccessKeyLastUsedResources(res)
			return err
		}); err != nil {
			return nil, fmt.Errorf("get access key last used resources: %w", err)
		}
		for _, x := range rr.Resources {
			out.Resources = append(out.Resources, ResourceUse{Service: p.ServiceName, Type: x.ResourceType, Name: x.ResourceName,
				UsedAt: fromMillis(x.UsedTimestamp)})
		}
	}
	return out, nil
}
