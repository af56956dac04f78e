# GLMC (Du et al., CVPR 2023) on ImageNet-LT, the official recipe (ynu-yangpeng/GLMC README command: ResNeXt-50
# 32x4d, batch 120, lr 0.1, wd 2e-4, 135 epochs, q 0.2, kappa 1.0, lambda_c 10):
# ./glmc_resnet50_4xb30_imagenet-lt_135e.py with the official backbone. tools/dist_train.sh THIS_CONFIG 4
_base_ = './glmc_resnet50_4xb30_imagenet-lt_135e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
