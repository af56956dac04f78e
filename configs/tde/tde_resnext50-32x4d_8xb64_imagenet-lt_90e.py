# De-confound-TDE (Tang et al., NeurIPS 2020), ResNeXt-50 (32x4d) on ImageNet-LT: the official
# config/ImageNet_LT/causal_norm.yaml, whose recipe ./tde_resnet50_8xb64_imagenet-lt_90e.py carries, on the ResNeXt
# backbone. tools/dist_train.sh THIS_CONFIG 8
_base_ = './tde_resnet50_8xb64_imagenet-lt_90e.py'
model = dict(backbone=dict(type='ResNeXt', groups=32, width_per_group=4))
