// Command tmpdf runs BuildKit's Dockerfile parser and linter (the checks
// `docker build --check` runs) on a Dockerfile, without a Docker engine.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/moby/buildkit/client/llb/sourceresolver"
)

// offline answers image lookups with a minimal config, so linting never
// touches the network.
type offline struct{}

func (offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":[]}}`)
	return ref, digest.FromBytes(cfg), cfg, nil
}

func main() {
	dt, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	plat := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		Config:         dockerui.Config{BuildPlatforms: []ocispecs.Platform{plat}},
		TargetPlatform: &plat,
		MetaResolver:   offline{},
		SourceMap:      &llb.SourceMap{Filename: "Dockerfile", Data: dt, Definition: &llb.Definition{}},
	})
	if err != nil {
		panic(err)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(b))
	if res.Error != nil || len(res.Warnings) > 0 {
		os.Exit(1)
	}
}
