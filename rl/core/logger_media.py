"""Values a logger can record besides numbers and text (SB3's `Video`, `Figure`, `Image`, `HParam`),
and their TensorBoard summaries, built from tensorboard's protobufs (no torch, no TensorFlow).

    logger.record("trajectory/video", Video(frames, fps=30), exclude=("stdout", "log", "json", "csv"))
    logger.record("hparams", HParam({"lr": 3e-4}, {"rollout/ep_rew_mean": 0}), exclude=(...))

Images are PNG-encoded and videos GIF-encoded with Pillow (a dependency); only TensorBoard writes them,
the text formats raise `FormatUnsupportedError` unless the key excludes them, as SB3 does.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np

__all__ = ["Video", "Figure", "Image", "HParam", "media_summary_values", "hparam_summaries", "histogram_value",
           "text_value"]


def _as_array(value) -> np.ndarray:
    """ndarray of a NumPy array, a corenn Tensor (its .data) or anything array-like."""
    if isinstance(value, np.ndarray):
        return value
    data = getattr(value, "data", value)  # corenn.Tensor -> its ndarray
    return np.asarray(data)


class Video:
    """Frames shaped (N, T, C, H, W) (N videos of T frames, C = 1, 3 or 4), uint8 in [0, 255] or
    float in [0, 1], played at `fps`; SB3's class, which holds a torch tensor there."""

    def __init__(self, frames, fps: float):
        self.frames = frames
        self.fps = fps


class Figure:
    """A matplotlib figure; `close=True` closes it once it is logged."""

    def __init__(self, figure, close: bool):
        self.figure = figure
        self.close = close


class Image:
    """An image array with its layout `dataformats` ("HWC", "CHW", "HW", "WH", ...), uint8 in
    [0, 255] or float in [0, 1]."""

    def __init__(self, image, dataformats: str):
        self.image = image
        self.dataformats = dataformats


class HParam:
    """Hyperparameters (str, bool, int, float or None values) and the metrics TensorBoard's HPARAMS
    tab shows beside them (tags logged as scalars elsewhere; the values here are placeholders)."""

    def __init__(self, hparam_dict: Mapping, metric_dict: Mapping):
        self.hparam_dict = hparam_dict
        if not metric_dict:
            raise ValueError("`metric_dict` must not be empty: the HPARAMS tab of TensorBoard shows its metrics")
        self.metric_dict = metric_dict


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind == "f":
        return (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.clip(array, 0, 255).astype(np.uint8)


def _to_hwc(image: np.ndarray, dataformats: str) -> np.ndarray:
    """(H, W, C) with C in {1, 3, 4} from any layout named by `dataformats`."""
    fmt = dataformats.upper()
    if sorted(fmt) not in (sorted("HW"), sorted("HWC")) or image.ndim != len(fmt):
        raise ValueError(f"dataformats {dataformats!r} does not describe an image of shape {image.shape}; "
                         "use e.g. 'HWC', 'CHW' or 'HW'")
    if "C" not in fmt:
        fmt, image = fmt + "C", image[..., None]
    hwc = np.transpose(image, [fmt.index(axis) for axis in "HWC"])
    if hwc.shape[2] not in (1, 3, 4):
        raise ValueError(f"an image needs 1, 3 or 4 channels, got {hwc.shape[2]} (shape {image.shape}, "
                         f"dataformats {dataformats!r})")
    return hwc


def _png(hwc: np.ndarray) -> bytes:
    from PIL import Image as PILImage

    pixels = hwc[..., 0] if hwc.shape[2] == 1 else hwc
    buffer = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return buffer.getvalue()


def _image_value(summary_pb2, tag: str, hwc: np.ndarray, encoded: bytes):
    height, width, channels = hwc.shape
    image = summary_pb2.Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=encoded)
    return summary_pb2.Summary.Value(tag=tag, image=image)


def _video_frames(frames) -> np.ndarray:
    """(N, T, C, H, W) -> (T, H, N*W, C) uint8: the N videos side by side."""
    array = _as_array(frames)
    if array.ndim != 5:
        raise ValueError(f"Video frames must be shaped (N, T, C, H, W), got shape {array.shape}")
    if array.shape[2] not in (1, 3, 4):
        raise ValueError(f"Video frames need 1, 3 or 4 channels on axis 2, got shape {array.shape}")
    array = _to_uint8(array)
    n, t, c, h, w = array.shape
    return np.ascontiguousarray(array.transpose(1, 3, 0, 4, 2).reshape(t, h, n * w, c))


def _gif(frames: np.ndarray, fps: float) -> bytes:
    from PIL import Image as PILImage

    if frames.shape[-1] == 1:
        images = [PILImage.fromarray(f[..., 0]) for f in frames]
    else:
        images = [PILImage.fromarray(f[..., :3]) for f in frames]
    buffer = io.BytesIO()
    duration = max(int(round(1000.0 / max(float(fps), 1e-3))), 10)
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0)
    return buffer.getvalue()


def _figure_hwc(figure, close: bool) -> np.ndarray:
    figure.canvas.draw()
    rgba = np.asarray(figure.canvas.buffer_rgba())
    if close:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return np.ascontiguousarray(rgba[..., :3])


def media_summary_values(tag: str, value) -> list:
    """Summary.Value protos for a Video, Figure or Image (empty for anything else)."""
    from tensorboard.compat.proto import summary_pb2

    if isinstance(value, Image):
        hwc = _to_uint8(_to_hwc(_as_array(value.image), value.dataformats))
        return [_image_value(summary_pb2, tag, hwc, _png(hwc))]
    if isinstance(value, Figure):
        hwc = _figure_hwc(value.figure, value.close)
        return [_image_value(summary_pb2, tag, hwc, _png(hwc))]
    if isinstance(value, Video):
        frames = _video_frames(value.frames)
        return [_image_value(summary_pb2, tag, frames[0], _gif(frames, value.fps))]
    return []


def histogram_value(tag: str, value, bins: int = 30):
    """A Summary.Value with the histogram of an array's values."""
    from tensorboard.compat.proto import summary_pb2

    values = _as_array(value).astype(np.float64).ravel()
    if values.size == 0:
        raise ValueError(f"cannot log a histogram of the empty array {tag!r}")
    counts, edges = np.histogram(values, bins=bins)
    histogram = summary_pb2.HistogramProto(min=float(values.min()), max=float(values.max()), num=int(values.size),
                                           sum=float(values.sum()), sum_squares=float(np.dot(values, values)),
                                           bucket_limit=edges[1:].tolist(), bucket=counts.astype(float).tolist())
    return summary_pb2.Summary.Value(tag=tag, histo=histogram)


def text_value(tag: str, text: str):
    """A Summary.Value for TensorBoard's text plugin (tag `{tag}/text_summary`, as torch writes it)."""
    from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[text.encode("utf-8")],
                                    tensor_shape=tensor_shape_pb2.TensorShapeProto(
                                        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]))
    return summary_pb2.Summary.Value(tag=f"{tag}/text_summary", metadata=metadata, tensor=tensor)


def _hparam_value(api_pb2, value):
    if value is None:
        return api_pb2.DATA_TYPE_STRING, {"string_value": "None"}
    if isinstance(value, (bool, np.bool_)):
        return api_pb2.DATA_TYPE_BOOL, {"bool_value": bool(value)}
    if isinstance(value, (int, float, np.integer, np.floating)):
        return api_pb2.DATA_TYPE_FLOAT64, {"number_value": float(value)}
    if isinstance(value, str):
        return api_pb2.DATA_TYPE_STRING, {"string_value": value}
    raise TypeError(f"a hyperparameter must be a str, bool, int, float or None, got {type(value).__name__}")


def hparam_summaries(hparam: HParam) -> list:
    """The three Summary protos (experiment, session start, session end) of TensorBoard's HPARAMS tab."""
    from google.protobuf import struct_pb2
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    infos, session_values = [], {}
    for name, value in hparam.hparam_dict.items():
        dtype, field = _hparam_value(api_pb2, value)
        infos.append(api_pb2.HParamInfo(name=str(name), type=dtype))
        session_values[str(name)] = struct_pb2.Value(**field)
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=str(tag))) for tag in hparam.metric_dict]

    def summary(tag: str, **content):
        data = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION, **content)
        meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=metadata.PLUGIN_NAME, content=data.SerializeToString()))
        return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, metadata=meta)])

    start = plugin_data_pb2.SessionStartInfo()
    for name, value in session_values.items():
        start.hparams[name].CopyFrom(value)
    return [summary(metadata.EXPERIMENT_TAG, experiment=api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)),
            summary(metadata.SESSION_START_INFO_TAG, session_start_info=start),
            summary(metadata.SESSION_END_INFO_TAG,
                    session_end_info=plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS))]
