# MDCS (Zhao et al., ICCV 2023), 3 experts, ResNeXt-50 (32x4d) on ImageNet-LT, the official run (fistyee/MDCS
# configs/config_imagenet_lt_resnext50_mdcs_e400.json: the ResNet-50 recipe, total batch 256, lr 0.1, cosine over
# 400 epochs): ./mdcs_resnet50_8xb32_imagenet-lt_400e.py with the ResNeXt backbone. tools/dist_train.sh THIS_CONFIG 8
_base_ = './mdcs_resnet50_8xb32_imagenet-lt_400e.py'
model = dict(backbone=dict(type='RIDEResNeXt', groups=32, width_per_group=4))
