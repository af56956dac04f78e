# BalPoE (Sanchez Aimar et al., CVPR 2023), 3 experts, ResNeXt-50 (32x4d) on ImageNet-LT, the official standard-training
# run (emasa/BalPoE-CalibratedLT configs/mixup/standard_training/config_imagenet_lt_resnext50_bs-experts.json, the same
# settings as the ResNet-50 one): tau (0, 1.25, 2.5), mixup 0.3, 2 GPUs x 32 (total 64), SGD nesterov lr 0.025, weight
# decay 5e-4, cosine over 180 epochs. The ResNet-50 config (./balpoe_resnet50_2xb32_imagenet-lt_180e.py) with the
# ResNeXt backbone. tools/dist_train.sh THIS_CONFIG 2
_base_ = './balpoe_resnet50_2xb32_imagenet-lt_180e.py'
model = dict(backbone=dict(type='RIDEResNeXt', groups=32, width_per_group=4))
