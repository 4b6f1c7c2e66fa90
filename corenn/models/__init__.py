"""Model zoo built from corenn.nn: MLP, LeNet-5, VGG, ResNet-18/34, U-Net, GPT (with a key/value cache) and ViT."""
from .gpt import GPT, GPTConfig, KVCache
from .lenet import LeNet5
from .mlp import MLP
from .resnet import BasicBlock, ResNet, resnet18, resnet34
from .seq2seq import BahdanauAttention, LuongAttention, Seq2Seq, token_accuracy
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
from .vit import ViT, vit_fashion_mnist

__all__ = [
    "MLP", "LeNet5", "BasicBlock", "ResNet", "resnet18", "resnet34", "UNet",
    "VGG", "VGG_CONFIGS", "vgg_num_parameters", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
    "vgg19", "vgg19_bn",
    "GPT", "GPTConfig", "KVCache", "ViT", "vit_fashion_mnist",
    "Seq2Seq", "BahdanauAttention", "LuongAttention", "token_accuracy",
]
