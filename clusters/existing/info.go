package existing

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/sqs"
)

// The ConfigMap a cluster started by `bench cluster up` describes itself
// with, for runs that connect to it with --cluster existing: where its
// ingress and its SQS side are (they live in the cluster-up process, not in
// the cluster), and its environment (what is emulated, its knobs). Readable
// with kubectl -n kube-public get configmap scalebench-cluster -o yaml.
const (
	InfoNamespace = "kube-public"
	InfoName      = "scalebench-cluster"
)

// The ConfigMap's keys.
const (
	infoKeyProvider    = "provider"
	infoKeyRunID       = "runID"
	infoKeyIngressURL  = "ingressURL"
	infoKeyEnvironment = "environment.json"
	infoKeySQS         = "sqs.json"
)

// Info is what a cluster says about itself in its scalebench-cluster
// ConfigMap.
type Info struct {
	// Provider is the kind that created the cluster ("emulated").
	Provider string
	// RunID is the cluster-up's id (its objects carry it).
	RunID string
	// IngressURL is where the cluster's ingress listens on this machine.
	IngressURL string
	// Environment is the creating provider's fingerprint (emulated parts,
	// knobs, components); the host is the connecting run's own.
	Environment results.Environment
	// SQS is the SQS endpoint and Redis-protocol store the keda-sqs
	// scenario uses; nil when the cluster has none.
	SQS *sqs.Env
}

// Publish writes info into the cluster's scalebench-cluster ConfigMap
// (created or replaced), labelled with info.RunID.
func Publish(ctx context.Context, cs kubernetes.Interface, info Info) error {
	env, err := json.Marshal(info.Environment)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: InfoName, Namespace: InfoNamespace,
			Labels: map[string]string{kube.LabelRunID: info.RunID, kube.LabelManagedBy: kube.ManagedBy}},
		Data: map[string]string{
			infoKeyProvider: info.Provider, infoKeyRunID: info.RunID, infoKeyIngressURL: info.IngressURL,
			infoKeyEnvironment: string(env),
		},
	}
	if info.SQS != nil {
		b, err := json.Marshal(info.SQS)
		if err != nil {
			return err
		}
		cm.Data[infoKeySQS] = string(b)
	}
	cms := cs.CoreV1().ConfigMaps(InfoNamespace)
	_, err = cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: kube.FieldManager})
	if apierrors.IsAlreadyExists(err) {
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: kube.FieldManager})
	}
	if err != nil {
		return fmt.Errorf("configmap %s/%s: %w", InfoNamespace, InfoName, err)
	}
	return nil
}

// ReadInfo reads the cluster's scalebench-cluster ConfigMap; ok is false
// when there is none (a cluster scalebench did not start).
func ReadInfo(ctx context.Context, cs kubernetes.Interface) (info Info, ok bool, err error) {
	cm, err := cs.CoreV1().ConfigMaps(InfoNamespace).Get(ctx, InfoName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		return Info{}, false, nil
	}
	if err != nil {
		return Info{}, false, fmt.Errorf("configmap %s/%s: %w", InfoNamespace, InfoName, err)
	}
	d := cm.Data
	info = Info{Provider: d[infoKeyProvider], RunID: d[infoKeyRunID], IngressURL: d[infoKeyIngressURL]}
	if s := d[infoKeyEnvironment]; s != "" {
		if err := json.Unmarshal([]byte(s), &info.Environment); err != nil {
			return Info{}, false, fmt.Errorf("configmap %s/%s: key %s: %w", InfoNamespace, InfoName, infoKeyEnvironment, err)
		}
	}
	if s := d[infoKeySQS]; s != "" {
		info.SQS = &sqs.Env{}
		if err := json.Unmarshal([]byte(s), info.SQS); err != nil {
			return Info{}, false, fmt.Errorf("configmap %s/%s: key %s: %w", InfoNamespace, InfoName, infoKeySQS, err)
		}
	}
	return info, true, nil
}
