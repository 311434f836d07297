package buildah

import (
	"fmt"
	"strconv"
	"time"

	"github.com/berth-containers/berth/pkg/image"
)

// sourceDateEpochArg is the build arg --source-date-epoch fills.
const sourceDateEpochArg = "SOURCE_DATE_EPOCH"

// createdTime is when new history entries and configs say they were
// created: --timestamp or the source date epoch when given, else now.
func (b *builder) createdTime() time.Time {
	switch {
	case b.o.Timestamp != nil:
		return b.o.Timestamp.UTC()
	case b.o.SourceDateEpoch != nil:
		return b.o.SourceDateEpoch.UTC()
	}
	return time.Now().UTC()
}

// layerTimes says how file times in the layers the build adds are
// rewritten: all set to --timestamp, or clamped to the source date epoch
// with --rewrite-timestamp.
func (b *builder) layerTimes() image.FileTimes {
	switch {
	case b.o.Timestamp != nil:
		t := b.o.Timestamp.UTC()
		return image.FileTimes{Set: &t}
	case b.o.SourceDateEpoch != nil && b.o.RewriteTimestamp:
		t := b.o.SourceDateEpoch.UTC()
		return image.FileTimes{Clamp: &t}
	}
	return image.FileTimes{}
}

// outputTimes: files written by --output bear the timestamp or source
// date epoch when one is given.
func (b *builder) outputTimes() image.FileTimes {
	switch {
	case b.o.Timestamp != nil:
		t := b.o.Timestamp.UTC()
		return image.FileTimes{Set: &t}
	case b.o.SourceDateEpoch != nil:
		t := b.o.SourceDateEpoch.UTC()
		return image.FileTimes{Set: &t}
	}
	return image.FileTimes{}
}

// timesKey is the part of every cache key that the fixed times make:
// they change the images' configs and layers.
func (b *builder) timesKey() string {
	key := ""
	if b.o.Timestamp != nil {
		key += fmt.Sprintf("timestamp=%d;", b.o.Timestamp.Unix())
	}
	if b.o.SourceDateEpoch != nil {
		key += fmt.Sprintf("source-date-epoch=%d;", b.o.SourceDateEpoch.Unix())
		if b.o.RewriteTimestamp {
			key += "rewrite-timestamp;"
		}
	}
	return key
}

// withSourceDateEpoch returns the build args with SOURCE_DATE_EPOCH set
// to the source date epoch, unless a --build-arg gave it.
func withSourceDateEpoch(args map[string]string, sde *time.Time) map[string]string {
	if sde == nil {
		return args
	}
	if _, ok := args[sourceDateEpochArg]; ok {
		return args
	}
	out := make(map[string]string, len(args)+1)
	for k, v := range args {
		out[k] = v
	}
	out[sourceDateEpochArg] = strconv.FormatInt(sde.Unix(), 10)
	return out
}
