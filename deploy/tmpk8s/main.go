// Command tmpk8s strictly decodes Kubernetes manifests into the typed
// k8s.io/api objects (unknown or misspelt fields and wrong types fail) and
// cross-checks the references between them.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func main() {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	dec := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	var objs []runtime.Object
	bad := 0
	for _, f := range os.Args[1:] {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				panic(err)
			}
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			obj, gvk, err := dec.Decode(doc, nil, nil)
			if err != nil {
				fmt.Printf("FAIL %s doc %d: %v\n", f, i, err)
				bad++
				continue
			}
			fmt.Printf("ok   %s doc %d: %s\n", f, i, gvk.Kind)
			objs = append(objs, obj)
		}
	}
	bad += crossCheck(objs)
	if bad > 0 {
		fmt.Printf("%d problems\n", bad)
		os.Exit(1)
	}
}

func stripComments(b []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

// crossCheck verifies what the API server would not: selectors match pod
// templates, services and PDBs select pods, probes name real ports, and
// every ConfigMap, Secret and Service referenced exists in the set.
func crossCheck(objs []runtime.Object) int {
	bad := 0
	fail := func(format string, a ...any) { fmt.Printf("FAIL "+format+"\n", a...); bad++ }
	cms, secrets, services := map[string]bool{}, map[string]*corev1.Service{}, map[string]bool{}
	type podSet struct {
		name   string
		labels labels.Set
		spec   corev1.PodSpec
	}
	var pods []podSet
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.ConfigMap:
			cms[v.Name] = true
		case *corev1.Secret:
			secrets[v.Name] = nil
		case *corev1.Service:
			services[v.Name] = true
		case *appsv1.Deployment:
			sel := labels.SelectorFromSet(v.Spec.Selector.MatchLabels)
			if !sel.Matches(labels.Set(v.Spec.Template.Labels)) {
				fail("deployment %s: selector does not match its template", v.Name)
			}
			pods = append(pods, podSet{"deployment/" + v.Name, v.Spec.Template.Labels, v.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			sel := labels.SelectorFromSet(v.Spec.Selector.MatchLabels)
			if !sel.Matches(labels.Set(v.Spec.Template.Labels)) {
				fail("statefulset %s: selector does not match its template", v.Name)
			}
			pods = append(pods, podSet{"statefulset/" + v.Name, v.Spec.Template.Labels, v.Spec.Template.Spec})
		}
	}
	_ = secrets
	selects := func(what string, m map[string]string) []podSet {
		var out []podSet
		for _, p := range pods {
			if labels.SelectorFromSet(m).Matches(p.labels) {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			fail("%s selects no pods", what)
		}
		return out
	}
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.Service:
			for _, p := range selects("service "+v.Name, v.Spec.Selector) {
				for _, sp := range v.Spec.Ports {
					if !hasPort(p.spec, sp.TargetPort.String()) {
						fail("service %s: targetPort %s not on %s", v.Name, sp.TargetPort.String(), p.name)
					}
				}
			}
			fmt.Printf("ok   service %s selects %d pod set(s)\n", v.Name, len(selects("service "+v.Name, v.Spec.Selector)))
		case *policyv1.PodDisruptionBudget:
			fmt.Printf("ok   pdb %s selects %d pod set(s)\n", v.Name, len(selects("pdb "+v.Name, v.Spec.Selector.MatchLabels)))
		case *networkingv1.NetworkPolicy:
			selects("networkpolicy "+v.Name, v.Spec.PodSelector.MatchLabels)
			for _, in := range v.Spec.Ingress {
				for _, from := range in.From {
					selects("networkpolicy "+v.Name+" from", from.PodSelector.MatchLabels)
				}
			}
		case *networkingv1.Ingress:
			for _, r := range v.Spec.Rules {
				for _, p := range r.HTTP.Paths {
					if !services[p.Backend.Service.Name] {
						fail("ingress %s: backend service %s missing", v.Name, p.Backend.Service.Name)
					}
				}
			}
		}
	}
	for _, p := range pods {
		sec := p.spec.SecurityContext
		for _, v := range p.spec.Volumes {
			if v.ConfigMap != nil && !cms[v.ConfigMap.Name] {
				fail("%s: configmap %s missing", p.name, v.ConfigMap.Name)
			}
		}
		for _, c := range p.spec.Containers {
			for _, pr := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
				if pr != nil && pr.HTTPGet != nil && !hasPort(p.spec, pr.HTTPGet.Port.String()) {
					fail("%s: probe port %s missing", p.name, pr.HTTPGet.Port.String())
				}
				if pr != nil && pr.TCPSocket != nil && !hasPort(p.spec, pr.TCPSocket.Port.String()) {
					fail("%s: probe port %s missing", p.name, pr.TCPSocket.Port.String())
				}
			}
			for _, m := range c.VolumeMounts {
				found := false
				for _, v := range p.spec.Volumes {
					found = found || v.Name == m.Name
				}
				if !found && !strings.HasPrefix(p.name, "statefulset/") {
					fail("%s: volume %s missing", p.name, m.Name)
				}
			}
			csc := c.SecurityContext
			if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
				fail("%s/%s: not readOnlyRootFilesystem or allows privilege escalation", p.name, c.Name)
			}
			if sec == nil || sec.RunAsNonRoot == nil || !*sec.RunAsNonRoot || sec.RunAsUser == nil || *sec.RunAsUser == 0 {
				fail("%s: not runAsNonRoot with a numeric non-zero user", p.name)
			}
			if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
				fail("%s/%s: no memory limit or cpu request", p.name, c.Name)
			}
		}
		fmt.Printf("ok   %s cross-checked\n", p.name)
	}
	return bad
}

func hasPort(spec corev1.PodSpec, port string) bool {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if p.Name == port || fmt.Sprint(p.ContainerPort) == port {
				return true
			}
		}
	}
	return false
}
