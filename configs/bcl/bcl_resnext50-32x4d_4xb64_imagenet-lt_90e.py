# BCL (Zhu et al., CVPR 2022), ResNeXt-50 32x4d on ImageNet-LT, the official run (README command, the default
# --arch resnext50; README row "sim-sim, 90 epochs, 57.2"): ./bcl_resnet50_4xb64_imagenet-lt_90e.py on ResNeXt-50.
# tools/dist_train.sh THIS_CONFIG 4
_base_ = './bcl_resnet50_4xb64_imagenet-lt_90e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
