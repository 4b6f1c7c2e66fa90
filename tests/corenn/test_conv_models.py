"""Conv models: LeNet-5, VGG, ResNet-18/34, U-Net: shapes, torchvision's parameter counts, PyTorch parity
(same weights copied into an equivalent torch model built here), errors and a short training check."""
import numpy as np
import pytest

import corenn as cn
import corenn.nn.functional as F
from corenn.models import (
    VGG,
    VGG_CONFIGS,
    LeNet5,
    UNet,
    resnet18,
    resnet34,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
    vgg_num_parameters,
)


def n_params(model):
    return sum(p.data.size for p in model.parameters())


def batch(shape, seed=0):
    return cn.Tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


# --------------------------------------------------------------------------- shapes and counts
def test_lenet5_shapes_and_parameter_count():
    model = LeNet5()
    assert n_params(model) == 61_706  # 156 + 2,416 + 48,120 + 10,164 + 850, as in the docstring
    assert model(batch((3, 1, 28, 28))).shape == (3, 10)
    cifar = LeNet5(num_classes=10, in_channels=3, input_size=32, padding=0)
    assert n_params(cifar) == 62_006
    assert cifar(batch((2, 3, 32, 32))).shape == (2, 10)


def test_lenet5_activation_and_pool_choices():
    classic = LeNet5(activation="tanh", pool="avg")
    kinds = [type(m).__name__ for m in classic.features]
    assert kinds == ["Conv2d", "Tanh", "AvgPool2d", "Conv2d", "Tanh", "AvgPool2d"]
    assert [type(m).__name__ for m in LeNet5(activation=cn.nn.GELU).classifier][1] == "GELU"
    assert [type(m).__name__ for m in LeNet5().features][1:3] == ["ReLU", "MaxPool2d"]


@pytest.mark.parametrize("kwargs,match", [
    ({"pool": "min"}, "pool must be"), ({"activation": "swishy"}, "unknown activation"),
    ({"input_size": 8}, "too small"), ({"num_classes": 0}, "num_classes")])
def test_lenet5_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LeNet5(**kwargs)


def test_lenet5_rejects_wrong_input_shape():
    with pytest.raises(ValueError, match=r"expects input \(N, 1, 28, 28\)"):
        LeNet5()(batch((2, 1, 32, 32)))


@pytest.mark.parametrize("builder,classes,expected", [
    (resnet18, 1000, 11_689_512), (resnet18, 10, 11_181_642), (resnet34, 1000, 21_797_672)])
def test_resnet_parameter_counts_match_torchvision(builder, classes, expected):
    assert n_params(builder(num_classes=classes)) == expected


def test_resnet_shapes_for_both_stems():
    cn.manual_seed(0)
    assert resnet18(7, stem="imagenet")(batch((2, 3, 32, 32))).shape == (2, 7)
    assert resnet18(10, in_channels=1, stem="cifar")(batch((2, 1, 28, 28))).shape == (2, 10)


PUBLISHED_VGG = {  # torchvision's parameter counts with 1000 classes
    ("A", False): 132_863_336, ("A", True): 132_868_840, ("B", False): 133_047_848, ("B", True): 133_053_736,
    ("D", False): 138_357_544, ("D", True): 138_365_992, ("E", False): 143_667_240, ("E", True): 143_678_248,
}


@pytest.mark.parametrize("cfg,bn", list(PUBLISHED_VGG))
def test_vgg_num_parameters_match_torchvision(cfg, bn):
    assert vgg_num_parameters(cfg, batch_norm=bn) == PUBLISHED_VGG[(cfg, bn)]


@pytest.mark.parametrize("builder,key", [
    (vgg11, ("A", False)),
    pytest.param(vgg11_bn, ("A", True), marks=pytest.mark.slow),
    pytest.param(vgg16, ("D", False), marks=pytest.mark.slow)])
def test_vgg_built_parameter_counts_match_torchvision(builder, key):
    # the real 0.5 GB models (2-5 s each to build here); init_weights=False skips the second fill of the
    # weights. vgg_num_parameters (checked against every build above at small widths) covers the rest fast.
    assert n_params(builder(init_weights=False)) == PUBLISHED_VGG[key]


@pytest.mark.parametrize("cfg", ["A", "B", "D", "E", [8, "M", 16, 16, "M", 32]])
@pytest.mark.parametrize("bn", [False, True])
@pytest.mark.parametrize("small_input,width_mult,classes,in_ch", [(True, 0.25, 10, 1), (False, 1 / 32, 7, 3)])
def test_vgg_num_parameters_equals_the_built_model(cfg, bn, small_input, width_mult, classes, in_ch):
    model = VGG(cfg, classes, in_ch, batch_norm=bn, small_input=small_input, width_mult=width_mult,
                init_weights=False)
    assert n_params(model) == vgg_num_parameters(cfg, classes, in_ch, bn, small_input, width_mult)


def test_vgg_builders_use_their_configuration():
    for builder, cfg, bn in [(vgg11, "A", False), (vgg13_bn, "B", True), (vgg16_bn, "D", True), (vgg19, "E", False),
                             (vgg13, "B", False), (vgg19_bn, "E", True)]:
        model = builder(10, 1, small_input=True, width_mult=1 / 16)
        convs = [m for m in model.features if isinstance(m, cn.nn.Conv2d)]
        assert len(convs) == sum(v != "M" for v in VGG_CONFIGS[cfg])
        assert any(isinstance(m, cn.nn.BatchNorm2d) for m in model.features) == bn


def test_vgg_state_dict_keys_follow_torchvision_layout():
    keys = set(vgg11_bn(small_input=False, width_mult=1 / 32).state_dict())
    # torchvision's vgg11_bn: (conv, bn, relu) per width, a pool after each block; Linear at 0, 3, 6
    convs = [0, 4, 8, 11, 15, 18, 22, 25]
    expected = {f"features.{i}.{p}" for i in convs for p in ("weight", "bias")}
    expected |= {f"features.{i + 1}.{p}" for i in convs
                 for p in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")}
    expected |= {f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")}
    assert keys == expected


def test_vgg_shapes_full_head_and_small_input():
    cn.manual_seed(0)
    tiny_full = vgg11(num_classes=10, width_mult=1 / 16)  # torchvision head: AdaptiveAvgPool2d(7) + 4096-4096
    assert tiny_full(batch((2, 3, 32, 32))).shape == (2, 10)
    small = vgg16_bn(num_classes=10, in_channels=1, small_input=True, width_mult=0.125)
    assert small(batch((2, 1, 28, 28))).shape == (2, 10)
    assert small(batch((2, 1, 32, 32))).shape == (2, 10)


def test_vgg_rejects_small_images_and_bad_arguments():
    with pytest.raises(ValueError, match="small_input=True"):
        vgg11(width_mult=1 / 16)(batch((1, 3, 28, 28)))
    with pytest.raises(ValueError, match="expects input"):
        vgg11(in_channels=1, small_input=True, width_mult=1 / 16)(batch((1, 3, 32, 32)))
    with pytest.raises(ValueError, match="unknown configuration"):
        VGG("Z")
    with pytest.raises(ValueError, match="width_mult"):
        VGG("A", width_mult=0)


@pytest.mark.parametrize("upsample", ["transpose", "bilinear"])
@pytest.mark.parametrize("norm", ["batch", "group", None])
def test_unet_shapes(upsample, norm):
    model = UNet(3, 5, base_channels=8, depth=3, upsample=upsample, norm=norm)
    out = model(batch((2, 3, 16, 24)))
    assert out.shape == (2, 5, 16, 24) and out.dtype == np.float32
    assert UNet(1, 2, base_channels=8, depth=0, upsample=upsample, norm=norm)(batch((1, 1, 5, 7))).shape == (1, 2, 5, 7)


def test_unet_requires_sizes_divisible_by_two_to_the_depth():
    model = UNet(1, 2, base_channels=4, depth=2)
    with pytest.raises(ValueError, match=r"divisible by 2\*\*depth = 4, got 18x16"):
        model(batch((1, 1, 18, 16)))
    with pytest.raises(ValueError, match=r"expects input \(N, 1, H, W\)"):
        model(batch((1, 3, 16, 16)))


@pytest.mark.parametrize("kwargs,match", [
    ({"upsample": "nearest"}, "upsample must be"), ({"norm": "layer"}, "norm must be"),
    ({"depth": -1}, "depth"), ({"norm": "group", "base_channels": 12, "norm_groups": 8}, "divisible by norm_groups"),
    ({"base_channels": 5}, "must be even")])
def test_unet_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UNet(1, 2, **{"base_channels": 8, **kwargs})


# --------------------------------------------------------------------------- PyTorch parity
@pytest.fixture
def torch1():
    """torch on one thread for the test (its thread pool is as slow as OpenBLAS's on a busy 2-core box)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(before)


def copy_into_torch(model, tmodel):
    torch = pytest.importorskip("torch")
    state = {k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()}
    tmodel.load_state_dict(state, strict=True)  # same keys and shapes, or this raises
    return tmodel


def check_parity(model, tmodel, x, train_steps=2, atol=2e-4):
    """Train-mode forward + input/parameter gradients, then eval mode (running statistics) after
    `train_steps` forwards that update the BatchNorm statistics on both sides."""
    torch = pytest.importorskip("torch")
    copy_into_torch(model, tmodel)
    xt = torch.tensor(x, requires_grad=True)
    xc = cn.Tensor(x, requires_grad=True)
    out_c, out_t = model(xc), tmodel(xt)
    np.testing.assert_allclose(out_c.data, out_t.detach().numpy(), rtol=1e-4, atol=atol)
    (out_c * out_c).sum().backward()
    (out_t * out_t).sum().backward()
    scale = float(np.abs(xt.grad.numpy()).max()) + 1e-12
    np.testing.assert_allclose(xc.grad / scale, xt.grad.numpy() / scale, atol=5e-4)
    tparams = dict(tmodel.named_parameters())
    for name, p in model.named_parameters():
        g = tparams[name].grad.numpy()
        s = float(np.abs(g).max()) + 1e-12
        np.testing.assert_allclose(p.grad / s, g / s, atol=5e-4, err_msg=name)
    for step in range(train_steps):
        xs = np.random.default_rng(100 + step).standard_normal(x.shape).astype(np.float32)
        with cn.no_grad():
            model(cn.Tensor(xs))
        with torch.no_grad():
            tmodel(torch.from_numpy(xs))
    model.eval()
    tmodel.eval()
    with cn.no_grad():
        out_c = model(cn.Tensor(x)).data
    with torch.no_grad():
        out_t = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out_c, out_t, rtol=1e-4, atol=atol)


def torch_lenet5(in_channels, num_classes, act, pool):
    tnn = pytest.importorskip("torch.nn")
    A, P = {"relu": tnn.ReLU, "tanh": tnn.Tanh}[act], {"max": tnn.MaxPool2d, "avg": tnn.AvgPool2d}[pool]

    class TLeNet5(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(tnn.Conv2d(in_channels, 6, 5, padding=2), A(), P(2),
                                           tnn.Conv2d(6, 16, 5), A(), P(2))
            self.flatten = tnn.Flatten()
            self.classifier = tnn.Sequential(tnn.Linear(400, 120), A(), tnn.Linear(120, 84), A(),
                                             tnn.Linear(84, num_classes))

        def forward(self, x):
            return self.classifier(self.flatten(self.features(x)))
    return TLeNet5()


@pytest.mark.parametrize("act,pool", [("relu", "max"), ("tanh", "avg")])
def test_lenet5_matches_torch(torch1, act, pool):
    cn.manual_seed(1)
    model = LeNet5(10, 1, activation=act, pool=pool)
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    check_parity(model, torch_lenet5(1, 10, act, pool), x, train_steps=0)


def torch_resnet18_cifar(num_classes):
    tnn = pytest.importorskip("torch.nn")

    class TBasicBlock(tnn.Module):
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU()
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                                 tnn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + identity)

    class TResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU()
            self.maxpool = tnn.Identity()
            widths, inplanes = (64, 128, 256, 512), 64
            for i, w in enumerate(widths):
                stride = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", tnn.Sequential(TBasicBlock(inplanes, w, stride), TBasicBlock(w, w, 1)))
                inplanes = w
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.fc = tnn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))
    return TResNet()


def test_resnet18_cifar_matches_torch(torch1):
    cn.manual_seed(2)
    model = resnet18(10, stem="cifar")
    x = np.random.default_rng(0).standard_normal((2, 3, 16, 16)).astype(np.float32)
    check_parity(model, torch_resnet18_cifar(10), x, atol=5e-4)


def torch_unet(in_channels, num_classes, base, depth, upsample, norm):
    tnn = pytest.importorskip("torch.nn")
    torch = pytest.importorskip("torch")

    class TDoubleConv(tnn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            layers = []
            for c in (cin, cout):
                layers.append(tnn.Conv2d(c, cout, 3, padding=1, bias=norm is None))
                if norm == "batch":
                    layers.append(tnn.BatchNorm2d(cout))
                elif norm == "group":
                    layers.append(tnn.GroupNorm(8, cout))
                layers.append(tnn.ReLU())
            self.block = tnn.Sequential(*layers)

        def forward(self, x):
            return self.block(x)

    class TUp(tnn.Module):
        def __init__(self, cin, cskip, cout):
            super().__init__()
            if upsample == "transpose":
                self.up, merged = tnn.ConvTranspose2d(cin, cin // 2, 2, stride=2), cin // 2 + cskip
            else:
                self.up, merged = tnn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), cin + cskip
            self.conv = TDoubleConv(merged, cout)

        def forward(self, x, skip):
            return self.conv(torch.cat([skip, self.up(x)], 1))

    class TUNet(tnn.Module):
        def __init__(self):
            super().__init__()
            w = [base * 2 ** i for i in range(depth + 1)]
            self.inc = TDoubleConv(in_channels, w[0])
            self.pool = tnn.MaxPool2d(2)
            self.downs = tnn.ModuleList(TDoubleConv(w[i], w[i + 1]) for i in range(depth))
            self.ups = tnn.ModuleList(TUp(w[i + 1], w[i], w[i]) for i in reversed(range(depth)))
            self.outc = tnn.Conv2d(w[0], num_classes, 1)

        def forward(self, x):
            skips = [self.inc(x)]
            for down in self.downs:
                skips.append(down(self.pool(skips[-1])))
            out = skips.pop()
            for up in self.ups:
                out = up(out, skips.pop())
            return self.outc(out)
    return TUNet()


@pytest.mark.parametrize("upsample,norm", [("transpose", "batch"), ("bilinear", "group"), ("transpose", None)])
def test_unet_matches_torch(torch1, upsample, norm):
    cn.manual_seed(3)
    model = UNet(2, 3, base_channels=8, depth=2, upsample=upsample, norm=norm)
    x = np.random.default_rng(0).standard_normal((2, 2, 16, 12)).astype(np.float32)
    check_parity(model, torch_unet(2, 3, 8, 2, upsample, norm), x)


# --------------------------------------------------------------------------- learning
def striped_digits(n, seed):
    """A tiny separable image task: class k has a bright horizontal bar at row band k (28x28), plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    x = rng.normal(0.0, 0.3, size=(n, 1, 28, 28)).astype(np.float32)
    for k in range(4):
        x[y == k, 0, 4 + 6 * k:7 + 6 * k, 4:24] += 1.0
    return x, y


@pytest.mark.parametrize("make_model", [
    lambda: LeNet5(num_classes=4),
    lambda: vgg11_bn(num_classes=4, in_channels=1, small_input=True, width_mult=1 / 16),
])
def test_models_learn_a_tiny_task(make_model):
    cn.manual_seed(0)
    model = make_model()
    x, y = striped_digits(64, 0)
    opt = cn.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = F.cross_entropy(model(cn.Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.5 * losses[0]
    model.eval()
    with cn.no_grad():
        xt, yt = striped_digits(64, 1)
        assert (model(cn.Tensor(xt)).data.argmax(1) == yt).mean() > 0.8
