package psa

import "context"

// tenantKey is the context key of WithTenant.
type tenantKey struct{}

// WithTenant marks the PSA calls made with ctx as made for tenant, so a
// shared budget (psa/quota) can give each tenant its fair share.
func WithTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

// TenantOf is the tenant WithTenant put in ctx, or "".
func TenantOf(ctx context.Context) string {
	s, _ := ctx.Value(tenantKey{}).(string)
	return s
}
