# Cosine classifier (normed linear layer of LDAM-DRW / RIDE, logits s * cos(x, w_j), no bias, s = 30) trained with
# softmax cross-entropy: ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe.
# Everything else is configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py.
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(type='CosineClsHead', scale=30.0))
