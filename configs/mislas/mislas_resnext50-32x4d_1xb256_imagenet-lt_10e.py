# MiSLAS stage 2 on the ResNeXt-50 (32x4d) stage-1 model: ./mislas_resnet50_1xb256_imagenet-lt_10e.py (the official
# ImageNet-LT ResNet-50 stage-2 recipe) with that backbone.
# Train stage 1 first (./stage1-mixup_resnext50-32x4d_4xb64_imagenet-lt_180e.py), then python tools/train.py THIS_CONFIG
_base_ = './mislas_resnet50_1xb256_imagenet-lt_10e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))  # the backbone of stage 1
load_from = 'work_dirs/stage1-mixup_resnext50-32x4d_4xb64_imagenet-lt_180e/epoch_180.pth'
