# TLC (Li et al., CVPR 2022), 3 evidential experts, ResNeXt-50 (32x4d) on ImageNet-LT: the ResNet-50 config with a
# ResNeXt backbone (stem and layer1-3 shared, one layer4 per expert, 2048-d). The official code has no ResNeXt-50
# network or config; this applies its ImageNet-LT recipe (configs/imagenet_lt.json) to the survey's usual backbone.
# tools/dist_train.sh THIS_CONFIG 8
_base_ = './tlc_resnet50_8xb32_imagenet-lt_100e.py'
model = dict(backbone=dict(type='RIDEResNeXt', groups=32, width_per_group=4))
