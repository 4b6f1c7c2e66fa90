"""Model zoo built from corenn.nn: MLP, LeNet-5, VGG, ResNet-18/34 and U-Net."""
from .lenet import LeNet5
from .mlp import MLP
from .resnet import BasicBlock, ResNet, resnet18, resnet34
from .unet import UNet
from .vgg import (
    VGG,
    VGG_CONFIGS,
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

__all__ = [
    "MLP", "LeNet5", "BasicBlock", "ResNet", "resnet18", "resnet34", "UNet",
    "VGG", "VGG_CONFIGS", "vgg_num_parameters", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
    "vgg19", "vgg19_bn",
]
