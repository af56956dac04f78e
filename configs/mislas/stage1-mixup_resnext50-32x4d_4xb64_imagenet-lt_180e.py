# MiSLAS stage 1 with a ResNeXt-50 (32x4d): ./stage1-mixup_resnet50_4xb64_imagenet-lt_180e.py (the official
# ImageNet-LT ResNet-50 recipe) on the backbone of classifier-balancing's and the long-tail survey's ImageNet-LT
# tables. The official code has no ResNeXt-50 config. tools/dist_train.sh THIS_CONFIG 4
_base_ = './stage1-mixup_resnet50_4xb64_imagenet-lt_180e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
